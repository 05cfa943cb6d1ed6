import TemperTensor

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

    /// Continues every prompt `options.numReturnSequences` times; `result[i]` holds prompt `i`'s
    /// sequences. `onToken(row, token)` is called as each token is chosen (for streaming), with
    /// `row = i × numReturnSequences + j` for sample `j` of prompt `i`. Row `r` draws from its own
    /// random stream keyed by `options.seed` and `r`, so its samples do not depend on what else is in
    /// the batch. Stops at exactly `options.stopTokenIds` (add the model's end-of-turn tokens there),
    /// and with `.length` where the model's context (`max_position_embeddings`) is full; a prompt that
    /// fills it already is an error.
    public func generate(prompts: [[Int32]], options: GenerationOptions,
                         onToken: ((Int, Int32) -> Void)? = nil) throws -> [[GeneratedSequence]] {
        try options.validate(vocabSize: model.config.vocabSize)
        let context = model.config.maxPositionEmbeddings
        for (i, p) in prompts.enumerated() {
            guard !p.isEmpty else { throw ModelInputError("prompt \(i) is empty: generation needs at least one prompt token") }
            // Positions past the context were never trained: RoPE would extrapolate silently.
            guard model.prefixLength + p.count < context else {
                let prefix = model.prefixLength > 0 ? " (after \(model.prefixLength) virtual tokens)" : ""
                throw ModelInputError("prompt \(i) has \(p.count) tokens\(prefix), leaving no room for a new one in the model's " +
                                      "context of \(context) (max_position_embeddings); shorten the prompt")
            }
        }
        let n = options.numReturnSequences
        let flat = try generate(prompts, samples: n, options: options, onToken: onToken)
        return prompts.indices.map { i in Array(flat[i * n..<(i + 1) * n]) }
    }

    /// `samples` sequences per prompt (non-empty), decoded as one batch of rows `i × samples + j`.
    /// Each prompt is prefilled once; its cache rows are then copied to its samples.
    private func generate(_ prompts: [[Int32]], samples: Int, options: GenerationOptions,
                          onToken: ((Int, Int32) -> Void)?) throws -> [GeneratedSequence] {
        guard let longest = prompts.map(\.count).max() else { return [] }
        let vocab = model.config.vocabSize
        let count = prompts.count * samples
        let context = model.config.maxPositionEmbeddings - model.prefixLength
        var rows = prompts.flatMap { p in Array(repeating: DecodingRow(context: p, room: context - p.count), count: samples) }
        if options.maxNewTokens == 0 { return rows.map { $0.result(tokenizer: tokenizer) } }

        var rngs = (0..<count).map { Self.stream(seed: options.seed, row: $0) }
        var samplers = rows.map { _ in Sampler(parameters: options) }
        // Rows of the current batch, as indices into `rows`.
        var live = Array(0..<count)
        var cache = KVCache(config: model.config, batchSize: prompts.count, capacity: model.prefixLength + longest + options.maxNewTokens)
        var mask = [[Int32]]()
        var ids = [Int32]()
        for p in prompts {
            let pad = longest - p.count
            ids += [Int32](repeating: 0, count: pad) + p
            mask.append([Int32](repeating: 0, count: pad) + [Int32](repeating: 1, count: p.count))
        }
        var input = Tensor(shape: [prompts.count, longest], int32: ids)
        var prefill = true

        try withNoGrad {
            while try DecodeProfiler.step(decoding: !prefill, {
                let maskTensor = Tensor(shape: [mask.count, mask[0].count], int32: mask.flatMap { $0 })
                var logits = try model.forward(input, cache: cache, attentionMask: maskTensor, positions: .last)
                if prefill, samples > 1 {
                    // Every sample of prompt i continues prompt i's prefill.
                    let copies = prompts.indices.flatMap { Array(repeating: $0, count: samples) }
                    cache = cache.selecting(rows: copies)
                    mask = copies.map { mask[$0] }
                    logits = Tensor.concat(copies.map { logits.narrow(0, start: $0, length: 1) }, axis: 0)
                }
                prefill = false
                let picks = DecodeProfiler.measure(.sampling) {
                    Self.sample(logits, vocab: vocab, rows: live, samplers: &samplers, rngs: &rngs,
                                contexts: rows.map(\.context), produced: rows.map(\.produced.count))
                }
                var next = [Int32](), stillLive = [Int](), keepRows = [Int]()
                for (row, seq) in live.enumerated() {
                    let (token, logProb) = picks[row]
                    onToken?(seq, token)
                    if rows[seq].accept(token, logprob: logProb, options: options, tokenizer: tokenizer) { continue }
                    next.append(token)
                    stillLive.append(seq)
                    keepRows.append(row)
                }
                if stillLive.isEmpty { return false }
                if stillLive.count != live.count {
                    cache = cache.selecting(rows: keepRows)
                    mask = keepRows.map { mask[$0] }
                }
                for r in mask.indices { mask[r].append(1) }
                live = stillLive
                input = Tensor(shape: [live.count, 1], int32: next)
                return true
            }) {}
        }
        return rows.map { $0.result(tokenizer: tokenizer) }
    }

    /// The random stream of batch row `row` under `seed`.
    static func stream(seed: UInt64, row: Int) -> PhiloxRNG {
        PhiloxRNG(seed: rowSeed(seed, offset: row))
    }

    /// The seed under which a batch's row r draws the stream of row `offset` + r under `seed`: a
    /// batch of rows cut from a larger one (one rank's share) samples them as the larger one would.
    public static func rowSeed(_ seed: UInt64, offset: Int) -> UInt64 {
        seed &+ UInt64(offset) &* 0x9E37_79B9_7F4A_7C15
    }

    /// Samples the next token of each batch row of `logits` (`[B, 1, vocab]`), row `i` being
    /// sequence `rows[i]`. Rows are sampled in parallel (each has its own sampler and random stream,
    /// so the draws do not depend on the split).
    static func sample(_ logits: Tensor, vocab: Int, rows: [Int], samplers: inout [Sampler], rngs: inout [PhiloxRNG],
                       contexts: [[Int32]], produced: [Int]) -> [(Int32, Float)] {
        var picks = [(Int32, Float)](repeating: (0, 0), count: rows.count)
        withExtendedLifetime(logits) {
            let lp = UnsafePointer(logits.floatPointer)
            samplers.withUnsafeMutableBufferPointer { sp in
                rngs.withUnsafeMutableBufferPointer { rp in
                    picks.withUnsafeMutableBufferPointer { pp in
                        Parallel.forEach(rows.count) { row in
                            let seq = rows[row]
                            pp[row] = sp[seq].sample(lp + row * vocab, vocab: vocab, seen: contexts[seq],
                                                     produced: produced[seq], rng: &rp[seq])
                        }
                    }
                }
            }
        }
        return picks
    }
}
