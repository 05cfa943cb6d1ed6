import TemperTensor

/// Why a sequence stopped.
public enum FinishReason: String, Sendable, Codable {
    /// It produced one of `stopTokenIds`.
    case stopToken = "stop"
    /// Its text reached one of `stopStrings`.
    case stopString = "stop_string"
    /// It reached `maxNewTokens`.
    case length
}

/// One generated continuation.
public struct GenerationResult: Sendable, Equatable {
    /// New token ids, including the stop token when one ended the sequence.
    public var tokenIds: [Int32]
    /// The decoded new text, without the stop token and cut before a stop string.
    public var text: String
    /// Log-probability of each new token (see `Sampler.sample` for which distribution).
    public var logProbs: [Float]
    /// Why it stopped.
    public var finishReason: FinishReason
}

/// Batched generation with a KV cache: prompts of different lengths are left-padded into one
/// batch, prefilled in one forward pass, then decoded a token per step for every live sequence.
/// Finished sequences leave the batch (their cache rows are dropped) so they cost nothing more.
public struct Generator {
    /// The model that scores tokens.
    public let model: LlamaModel
    /// Decodes new tokens for stop strings and results.
    public let tokenizer: Tokenizer

    /// A generator over `model` and its `tokenizer`.
    public init(model: LlamaModel, tokenizer: Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Continues every prompt. `onToken(sequence, token)` is called as each token is chosen (for
    /// streaming). Sequence `i` draws from its own random stream keyed by `seed` and `i`, so its
    /// samples do not depend on what else is in the batch.
    public func generate(prompts: [[Int32]], parameters: SamplingParameters,
                         onToken: ((Int, Int32) -> Void)? = nil) throws -> [GenerationResult] {
        try parameters.validate()
        guard !prompts.isEmpty else { return [] }
        for (i, p) in prompts.enumerated() where p.isEmpty {
            throw ModelInputError("prompt \(i) is empty: generation needs at least one prompt token")
        }
        let vocab = model.config.vocabSize
        let longest = prompts.map(\.count).max()!
        var results = prompts.map { _ in GenerationResult(tokenIds: [], text: "", logProbs: [], finishReason: .length) }
        if parameters.maxNewTokens == 0 { return results }

        var rngs = prompts.indices.map { PhiloxRNG(seed: parameters.seed &+ UInt64($0) &* 0x9E37_79B9_7F4A_7C15) }
        var samplers = prompts.map { _ in Sampler(parameters: parameters) }
        var seen = prompts
        // Rows of the current batch, as indices into `prompts`.
        var live = Array(prompts.indices)
        var cache = KVCache(config: model.config, batchSize: prompts.count, capacity: model.prefixLength + longest + parameters.maxNewTokens)
        var mask = [[Int32]]()
        var ids = [Int32]()
        for p in prompts {
            let pad = longest - p.count
            ids += [Int32](repeating: 0, count: pad) + p
            mask.append([Int32](repeating: 0, count: pad) + [Int32](repeating: 1, count: p.count))
        }
        var input = Tensor(shape: [prompts.count, longest], int32: ids)

        try withNoGrad {
            for _ in 0..<parameters.maxNewTokens {
                let maskTensor = Tensor(shape: [live.count, mask[0].count], int32: mask.flatMap { $0 })
                let logits = try model.forward(input, cache: cache, attentionMask: maskTensor, positions: .last)
                // Rows are sampled in parallel (each has its own sampler and random stream, so the
                // draws do not depend on the split); the bookkeeping below stays in row order.
                var picks = [(Int32, Float)](repeating: (0, 0), count: live.count)
                let rows = live, history = seen
                withExtendedLifetime(logits) {
                    let lp = UnsafePointer(logits.floatPointer)
                    samplers.withUnsafeMutableBufferPointer { sp in
                        rngs.withUnsafeMutableBufferPointer { rp in
                            picks.withUnsafeMutableBufferPointer { pp in
                                Parallel.forEach(rows.count) { row in
                                    let seq = rows[row]
                                    pp[row] = sp[seq].sample(lp + row * vocab, vocab: vocab, seen: history[seq], rng: &rp[seq])
                                }
                            }
                        }
                    }
                }
                var next = [Int32](), stillLive = [Int](), keepRows = [Int]()
                for (row, seq) in live.enumerated() {
                    let (token, logProb) = picks[row]
                    seen[seq].append(token)
                    results[seq].tokenIds.append(token)
                    results[seq].logProbs.append(logProb)
                    onToken?(seq, token)
                    if parameters.stopTokenIds.contains(token) {
                        results[seq].finishReason = .stopToken
                        results[seq].text = tokenizer.decode(results[seq].tokenIds.dropLast())
                        continue
                    }
                    if !parameters.stopStrings.isEmpty {
                        let text = tokenizer.decode(results[seq].tokenIds)
                        if let cut = Self.firstStop(in: text, parameters.stopStrings) {
                            results[seq].finishReason = .stopString
                            results[seq].text = String(text[..<cut])
                            continue
                        }
                    }
                    next.append(token)
                    stillLive.append(seq)
                    keepRows.append(row)
                }
                if stillLive.isEmpty { return }
                if stillLive.count != live.count {
                    cache = cache.selecting(rows: keepRows)
                    mask = keepRows.map { mask[$0] }
                }
                for r in mask.indices { mask[r].append(1) }
                live = stillLive
                input = Tensor(shape: [live.count, 1], int32: next)
            }
        }
        for seq in prompts.indices where results[seq].finishReason == .length {
            results[seq].text = tokenizer.decode(results[seq].tokenIds)
        }
        return results
    }

    private static func firstStop(in text: String, _ stops: [String]) -> String.Index? {
        stops.compactMap { text.range(of: $0)?.lowerBound }.min()
    }
}
