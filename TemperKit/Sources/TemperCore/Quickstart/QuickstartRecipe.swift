import Foundation
import Yams

/// The quickstart pipeline written as a YAML recipe (`temper quickstart --recipe FILE`): a mapping
/// of `Quickstart.parameters` names to values, e.g. `examples/recipes/pipeline-smollm2.yaml`. The
/// command's flags override the recipe's fields.
public enum QuickstartRecipe {
    /// The fields of the YAML file at `path`, as written; checked by `settings(recipe:flags:)`.
    public static func load(path: String) throws -> [(key: String, value: RawParameterValue)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw SpecError("recipe \(path): cannot be read") }
        let root: Node?
        do { root = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) } catch {
            throw SpecError("\(path): not valid YAML: \(error)")
        }
        guard let root else { return [] }
        guard let mapping = root.mapping else { throw SpecError("\(path): a quickstart recipe is a mapping of field: value") }
        return try mapping.map { keyNode, valueNode in
            let here = "\(path):\(keyNode.mark?.line ?? 0)"
            guard let key = keyNode.string else { throw SpecError("\(here): field names must be strings") }
            switch valueNode {
            case .scalar(let s): return (key, .text(s.string))
            case .sequence(let seq):
                return (key, .list(try seq.map { item in
                    guard let s = item.string else { throw SpecError("\(here): \(key) must be a list of plain values") }
                    return .text(s)
                }))
            default: throw SpecError("\(here): \(key) must be a value or a list of values, not a mapping")
            }
        }
    }

    /// The settings of `recipe`'s fields with `flags` in place of the fields they name, checked
    /// against `Quickstart.parameters` (unknown names and bad values are errors naming them).
    public static func settings(recipe: [(key: String, value: RawParameterValue)],
                                flags: [(key: String, value: RawParameterValue)]) throws -> Quickstart.Settings {
        let overridden = Set(flags.map(\.key))
        let raw = recipe.filter { !overridden.contains($0.key) } + flags
        return try Quickstart.Settings(config: ComponentConfig(component: "quickstart", parameters: Quickstart.parameters, raw: raw))
    }
}
