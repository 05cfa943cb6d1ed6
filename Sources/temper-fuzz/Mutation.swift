import TemperCore

/// Picks and stacks mutations for one input according to its target's shape.
struct Mutation {
    let shape: InputShape
    let bytes: ByteMutator
    let json: JSONMutator
    let text: TextMutator
    /// The seed parsed once, for JSON targets: parsing and walking a document costs far more than
    /// an edit, so the stacked edits of one mutant share one parse and one write.
    private let tree: JSONValue?

    init(target: FuzzTarget, seed: [UInt8], headerEnd: Int) {
        tree = target.shape == .json ? JSONMutator.parse(seed) : nil
        shape = target.shape
        bytes = ByteMutator(headerEnd: headerEnd)
        json = JSONMutator(dictionary: target.dictionary)
        text = TextMutator(dictionary: target.dictionary, syntaxTokens: target.syntaxTokens)
    }

    /// One to four stacked mutations of `seed`; `others` are the other seeds, for splicing.
    func mutant(of seed: [UInt8], rng: inout FuzzRandom, others: [[UInt8]]) -> [UInt8] {
        var input = seed
        if let tree, rng.chance(0.75) {
            input = json.mutate(tree: tree, edits: 1 + rng.below(3), rng: &rng)
            if rng.chance(0.3) { input = json.textual(input, rng: &rng) }
            return input
        }
        for _ in 0..<(1 + rng.below(4)) {
            switch shape {
            case .binary:
                bytes.mutate(&input, rng: &rng, others: others)
            case .json:
                if rng.chance(0.5) { input = json.textual(input, rng: &rng) } else { bytes.mutate(&input, rng: &rng, others: others) }
            case .jsonLines:
                if rng.chance(0.6) { input = mutateOneLine(input, rng: &rng) }
                else if rng.chance(0.6) { input = text.mutate(input, rng: &rng) }
                else { bytes.mutate(&input, rng: &rng, others: others) }
            case .text:
                if rng.chance(0.8) { input = text.mutate(input, rng: &rng) } else { bytes.mutate(&input, rng: &rng, others: others) }
            }
        }
        return input
    }

    /// JSON-aware mutation of one line of a JSONL file.
    private func mutateOneLine(_ input: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        var lines = input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        guard !lines.isEmpty else { return input }
        let i = rng.below(lines.count)
        if let tree = JSONMutator.parse(lines[i]), let m = Optional(rng.chance(0.8) ? json.mutate(tree: tree, edits: 1, rng: &rng) : json.textual(lines[i], rng: &rng)) {
            // A textual edit may add a newline inside a string; JSONL keeps a row on one line.
            lines[i] = m.map { $0 == UInt8(ascii: "\n") ? UInt8(ascii: " ") : $0 }
        }
        return Array(lines.joined(separator: [UInt8(ascii: "\n")]))
    }
}
