/// The workload of the prefix-sharing measurement (README, "Test-time search"): a likelihood beam
/// search over a session — each step every beam is forked `expansions` times, every child samples
/// `stepTokens` tokens, and the `beams` children with the highest total log-probability survive.
/// Run with `sharesPrefixes` on and off it gives identical beams; the positions fed through the
/// model show what sharing saves.
public enum PrefixSharingProbe {
    /// What one run produced and cost.
    public struct Outcome: Equatable {
        /// The surviving beams' tokens after the prompt, best first.
        public var beams: [[Int32]]
        /// Positions fed through the model.
        public var positionsComputed: Int
        /// Forward passes.
        public var forwardPasses: Int
    }

    /// Runs the beam search from `prompt` for `steps` steps.
    public static func run(model: LlamaModel, tokenizer: Tokenizer, prompt: [Int32], beams: Int, expansions: Int,
                           steps: Int, stepTokens: Int, seed: UInt64, sharesPrefixes: Bool) throws -> Outcome {
        let session = try SharedPrefixSession(model: model, tokenizer: tokenizer, prompts: [prompt], sharesPrefixes: sharesPrefixes)
        // Top-k keeps each draw away from float noise: over a flat distribution of the whole
        // vocabulary, the last-bit differences between computing a prefix once and recomputing it
        // would move the inverse-CDF draw by a few tokens.
        let options = GenerationOptions(maxNewTokens: stepTokens, temperature: 1, topK: 20, seed: seed)
        var live: [(row: Int, logprob: Float, tokens: [Int32])] = [(0, 0, [])]
        for step in 0..<steps {
            let parents = live
            let children = try session.fork(parents.map(\.row), copies: step == 0 ? beams * expansions : expansions)
            session.release(parents.map(\.row))
            let flat = children.flatMap { $0 }
            let produced = try session.decode(flat, options: options)
            var next: [(row: Int, logprob: Float, tokens: [Int32])] = []
            var k = 0
            for (parent, kids) in zip(parents, children) {
                for row in kids {
                    next.append((row, parent.logprob + produced[k].tokenLogprobs.reduce(0, +), parent.tokens + produced[k].tokenIDs))
                    k += 1
                }
            }
            let ranked = next.enumerated().sorted { a, b in
                a.element.logprob != b.element.logprob ? a.element.logprob > b.element.logprob : a.offset < b.offset
            }.map(\.element)
            live = Array(ranked.prefix(beams))
            session.release(ranked.dropFirst(beams).map(\.row))
        }
        return Outcome(beams: live.map(\.tokens), positionsComputed: session.positionsComputed,
                       forwardPasses: session.forwardPasses)
    }
}
