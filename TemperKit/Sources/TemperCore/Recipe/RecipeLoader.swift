import Foundation
import Yams

/// Reads YAML recipes into `TrainingRecipe`s.
///
///     model: models/smollm2.gguf
///     train_file: data/train.jsonl
///     learning_rate: 2.0e-4
///     peft: lora:r=16,alpha=32          # a spec string ...
///     optimizer: {name: adamw, weight_decay: 0.0}   # ... or a mapping with `name`
///     rewards: [exact-match, "format:weight=0.2"]
///
/// Errors name the file and line; unknown fields are errors, never ignored.
public enum RecipeLoader {
    /// Parses the recipe file at `path`.
    public static func load(path: String) throws -> TrainingRecipe {
        guard let data = FileManager.default.contents(atPath: path) else { throw SpecError("recipe \(path): cannot be read") }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses recipe text; `source` names it in messages.
    public static func parse(_ yaml: String, source: String) throws -> TrainingRecipe {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw SpecError("\(source): not valid YAML: \(error)")
        }
        var recipe = TrainingRecipe()
        guard let root else { return recipe }
        guard let mapping = root.mapping else { throw SpecError("\(source): a recipe is a mapping of field: value") }
        for (keyNode, valueNode) in mapping {
            let here = "\(source):\(line(keyNode))"
            guard let key = keyNode.string else { throw SpecError("\(here): field names must be strings") }
            let isComponent = TrainingRecipe.componentFields[TrainingRecipe.componentAliases[key] ?? key] != nil
            let raw = isComponent ? try componentValue(valueNode, at: here, key: key) : try scalarOrList(valueNode, at: here, key: key)
            try recipe.set(key, raw, source: here)
        }
        return recipe
    }

    private static func line(_ node: Node) -> Int { (node.mark?.line ?? 0) }

    /// A field value: a scalar, or a list of scalars.
    private static func scalarOrList(_ node: Node, at here: String, key: String) throws -> RawParameterValue {
        switch node {
        case .scalar(let s): return .text(s.string)
        case .sequence(let seq):
            return .list(try seq.map { item in
                guard case .scalar(let s) = item else { throw SpecError("\(here): \(key) must be a list of plain values") }
                return .text(s.string)
            })
        default: throw SpecError("\(here): \(key) must be a value or a list of values, not a mapping")
        }
    }

    /// A component: a spec string, a mapping with `name` and settings, or (for rewards) a list of those.
    private static func componentValue(_ node: Node, at here: String, key: String) throws -> RawParameterValue {
        switch node {
        case .scalar(let s): return .text(s.string)
        case .mapping(let m): return .text(try specText(m, at: here, key: key))
        case .sequence(let seq):
            guard key == "rewards" || key == "reward" else { throw SpecError("\(here): \(key) takes one component, not a list") }
            return .list(try seq.map { item in
                switch item {
                case .scalar(let s): return .text(s.string)
                case .mapping(let m): return .text(try specText(m, at: "\(here)", key: key))
                default: throw SpecError("\(here): each entry of \(key) is a spec string or a mapping with a name")
                }
            })
        default: throw SpecError("\(here): \(key) must be a component spec")
        }
    }

    /// `{name: adamw, lr: 1e-4, betas: [..]}` → `adamw:lr=1e-4,betas=[..]`.
    private static func specText(_ m: Node.Mapping, at here: String, key: String) throws -> String {
        guard let name = m["name"]?.string else { throw SpecError("\(here): \(key) mapping needs a 'name' field") }
        var parts: [String] = []
        for (k, v) in m {
            guard let field = k.string else { throw SpecError("\(here): setting names must be strings") }
            if field == "name" { continue }
            switch v {
            case .scalar(let s): parts.append("\(field)=\(s.string)")
            case .sequence(let seq):
                let items = try seq.map { item -> String in
                    guard let s = item.string else { throw SpecError("\(here): \(name).\(field) must be a list of plain values") }
                    return s
                }
                parts.append("\(field)=[\(items.joined(separator: ","))]")
            default: throw SpecError("\(here): \(name).\(field) must be a value or a list")
            }
        }
        return parts.isEmpty ? name : name + ":" + parts.joined(separator: ",")
    }
}
