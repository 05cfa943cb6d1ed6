import Foundation
import TemperCore

/// Which linear layers a method adapts, with PEFT's `target_modules` rules:
/// - `all-linear`: every linear layer of the decoder (the LM head is never among `linearLayers`);
/// - a plain name (`q_proj`, `self_attn.q_proj`): the module whose full name equals it or ends in
///   `.` + it;
/// - an entry with regex characters (`.*layers\.[01]\..*_proj`): a regular expression that must
///   match the whole module name (what PEFT does with a string `target_modules`).
struct TargetModules {
    /// The entries as given.
    let entries: [String]
    private let patterns: [NSRegularExpression?]

    private static let regexCharacters = CharacterSet(charactersIn: "*()[]|\\^$+?{}")

    /// Compiles `entries`; `owner` names the method in errors.
    init(_ entries: [String], owner: String) throws {
        guard !entries.isEmpty else { throw SpecError("\(owner): target_modules is empty; name modules or use all-linear") }
        self.entries = entries
        patterns = try entries.map { entry in
            guard entry.rangeOfCharacter(from: Self.regexCharacters) != nil else { return nil }
            do { return try NSRegularExpression(pattern: "^(?:" + entry + ")$") } catch {
                throw SpecError("\(owner): target_modules entry '\(entry)' is not a valid regular expression")
            }
        }
    }

    /// Whether the module called `name` is targeted.
    func matches(_ name: String) -> Bool {
        for (entry, pattern) in zip(entries, patterns) {
            if entry == "all-linear" { return true }
            if let pattern {
                if pattern.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil { return true }
            } else if name == entry || name.hasSuffix("." + entry) {
                return true
            }
        }
        return false
    }

    /// The layers of `model` that match, in the model's order; an error listing the available
    /// module types when none does.
    func select(from model: any AdaptableModel, owner: String) throws -> [Linear] {
        let layers = model.linearLayers.filter { matches($0.name) }
        guard !layers.isEmpty else {
            let kinds = Set(model.linearLayers.map { $0.name.split(separator: ".").last.map(String.init) ?? $0.name }).sorted()
            throw SpecError("\(owner): target_modules \(entries) matches no linear layer; the model has \(kinds.joined(separator: ", ")) (or use all-linear)")
        }
        return layers
    }
}

/// The last component of a module name (`q_proj` of `model.layers.0.self_attn.q_proj`), which is
/// what PEFT writes into `target_modules`.
func moduleType(_ name: String) -> String {
    name.split(separator: ".").last.map(String.init) ?? name
}
