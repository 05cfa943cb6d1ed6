import Foundation

/// How a target's inputs are shaped, which decides the mutations applied to them.
enum InputShape {
    /// A binary file whose header (counts, lengths, offsets) ends at the given byte of each seed.
    case binary
    /// One JSON document.
    case json
    /// JSON Lines: one JSON document per line.
    case jsonLines
    /// Line-oriented text (YAML recipes, component specs).
    case text
}

/// One parser under test. The parent process asks it for seeds; a child process calls `setUp` once
/// and `execute` for every input of a batch. `execute` throws for an input the parser refuses —
/// the expected outcome for most mutated inputs; only a trap, a hang or memory beyond the limit
/// is a finding.
protocol FuzzTarget: AnyObject {
    /// The name `temper-fuzz run NAME` takes.
    var name: String { get }
    /// What is parsed, and through which entry point.
    var summary: String { get }
    /// The input's shape.
    var shape: InputShape { get }
    /// Words the mutators insert (field names, keys, component names).
    var dictionary: [String] { get }
    /// Tokens the text mutator repeats and inserts.
    var syntaxTokens: [String] { get }
    /// The seed inputs (from fixtures/, examples/ and generated), with where each one's header ends.
    func seeds(_ material: SeedMaterial) throws -> [(bytes: [UInt8], headerEnd: Int)]
    /// Child-side preparation (a scratch folder, a tokenizer, the plugins), once per child.
    func setUp(_ material: SeedMaterial, scratch: URL) throws
    /// Parses one input through the same entry points `temper` uses.
    func execute(_ input: [UInt8]) throws
}

extension FuzzTarget {
    var syntaxTokens: [String] { [] }
}

/// Every target, in the order `temper-fuzz list` prints them.
func allTargets() -> [FuzzTarget] {
    [GGUFTarget(), SafetensorsTarget(), TokenizerJSONTarget(), ConfigJSONTarget(), DatasetRowsTarget(),
     RecipeTarget(), ComponentSpecTarget()]
}

/// An error of the fuzzer itself (bad arguments, a seed that cannot be made), printed and exit 2.
struct FuzzError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
