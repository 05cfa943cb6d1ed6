import Foundation

/// A synthetic chat task with a checkable answer: "47+85=" → "132".
///
/// Problems are drawn without repetition from every pair of `digits`-digit operands, so the
/// held-out set shares no problem with the training set: accuracy on it measures whether the
/// model learned to add, not whether it memorised.
public struct AdditionTask {
    /// One problem.
    public struct Problem: Equatable {
        public var a: Int, b: Int
        /// The user's message.
        public var question: String { "\(a)+\(b)=" }
        /// The expected assistant message.
        public var answer: String { String(a + b) }
    }

    /// Training problems.
    public let train: [Problem]
    /// Held-out problems, disjoint from `train`.
    public let heldOut: [Problem]

    /// Draws `trainCount` + `heldOutCount` distinct problems with operands below 10^digits.
    public init(digits: Int, trainCount: Int, heldOutCount: Int, seed: UInt64) throws {
        let limit = Int(pow(10, Double(digits)))
        let pairs = limit * limit
        guard trainCount + heldOutCount <= pairs else {
            throw SpecError("quickstart: \(trainCount) + \(heldOutCount) problems asked, but only \(pairs) pairs of \(digits)-digit numbers exist")
        }
        let order = EpochOrder.permutation(count: pairs, seed: seed, epoch: 0)
        let problems = order.prefix(trainCount + heldOutCount).map { Problem(a: $0 / limit, b: $0 % limit) }
        heldOut = Array(problems.prefix(heldOutCount))
        train = Array(problems.dropFirst(heldOutCount))
    }

    /// A problem as a TRL conversational row.
    public static func jsonLine(_ p: Problem) -> String {
        #"{"messages": [{"role": "user", "content": "\#(p.question)"}, {"role": "assistant", "content": "\#(p.answer)"}]}"#
    }

    /// Writes problems as JSONL to `url`.
    public static func write(_ problems: [Problem], to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFileWriter.write(Data((problems.map(jsonLine).joined(separator: "\n") + "\n").utf8), to: url)
    }

    /// Fraction of `problems` whose greedy completion is exactly the answer, and the completions.
    public static func accuracy(of model: LlamaModel, tokenizer: Tokenizer, on problems: [Problem],
                                batchSize: Int = 64) throws -> (accuracy: Double, completions: [String]) {
        let generator = Generator(model: model, tokenizer: tokenizer)
        var stop: Set<Int32> = []
        if let eos = tokenizer.eosTokenID { stop.insert(eos) }
        let options = GenerationOptions(maxNewTokens: problems.map(\.answer.count).max()! + 2, temperature: 0, stopTokenIds: stop)
        var completions: [String] = []
        for start in stride(from: 0, to: problems.count, by: batchSize) {
            let chunk = problems[start..<min(problems.count, start + batchSize)]
            let prompts = try chunk.map { try tokenizer.encodeChat([ChatMessage(role: "user", content: $0.question)], addGenerationPrompt: true) }
            let results = try withNoGrad { try generator.generate(prompts: prompts, options: options) }
            completions += results.map { tokenizer.decode($0[0].tokenIDs, skipSpecialTokens: true) }
        }
        let correct = zip(problems, completions).filter { $0.answer == $1 }.count
        return (Double(correct) / Double(problems.count), completions)
    }
}
