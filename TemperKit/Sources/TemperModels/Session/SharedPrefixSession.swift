import TemperTensor

/// Step-by-step decoding over a paged KV cache whose rows share prefixes: the model side of a
/// tree search. Forking a row hands its children the parent's KV blocks (no copy); a child writing
/// into a block it shares copies that one block first. Each row's keys carry their own RoPE
/// positions, so rows of any lengths decode together in one batch.
///
/// A row's context is its prompt plus every token appended or decoded since. All of it is in the
/// cache except the last token, which is fed with the next pass (so a fork or an append costs no
/// pass of its own for it, and a decode's first step both feeds it and samples the next token).
/// Prompt- and prefix-tuning adapters are refused; adapters inside linear layers (LoRA, ...) work.
public final class SharedPrefixSession {
    /// The model that scores tokens.
    public let model: LlamaModel
    /// Decodes tokens for stop strings and results.
    public let tokenizer: Tokenizer
    /// Where the rows' keys and values live.
    public let pool: KVBlockPool
    /// Tokens put into contexts without being sampled (prompts, appended tokens).
    public private(set) var tokensScored = 0
    /// Tokens sampled by `decode`.
    public private(set) var tokensGenerated = 0
    /// Forward passes run (one per batch, whatever its rows).
    public private(set) var forwardPasses = 0
    /// Positions fed through the model (each row's new tokens, per pass): with sharing, a prefix
    /// is fed once however many rows continue it.
    public private(set) var positionsComputed = 0

    private struct Row {
        var tokens: [Int32]
        /// Positions of `tokens` whose keys and values are in `blocks`.
        var cached = 0
        var blocks: [Int] = []
        var rng: PhiloxRNG?
        var rngSeed: UInt64 = 0
    }
    private var table: [Int: Row] = [:]
    private var nextID = 0

    /// Whether a fork shares its parent's blocks. Off, a child starts with an empty cache and
    /// recomputes its whole context: what a tree search without forkable caches pays, for measuring.
    public let sharesPrefixes: Bool

    /// A session whose rows `0..<prompts.count` are `prompts` (non-empty), prefilled in batches of
    /// equal length.
    public init(model: LlamaModel, tokenizer: Tokenizer, prompts: [[Int32]], blockSize: Int = 16, sharesPrefixes: Bool = true) throws {
        guard model.prefixLength == 0 else {
            throw ModelInputError("decoding sessions do not support prompt or prefix tuning (\(model.prefixLength) virtual tokens); " +
                                  "use an adapter inside the linear layers (LoRA, DoRA, IA3, ...) or plain generation")
        }
        guard blockSize >= 1 else { throw ModelInputError("decoding session: block size must be ≥ 1, got \(blockSize)") }
        self.model = model
        self.tokenizer = tokenizer
        self.sharesPrefixes = sharesPrefixes
        pool = KVBlockPool(config: model.config, blockSize: blockSize)
        for (i, p) in prompts.enumerated() where p.isEmpty {
            throw ModelInputError("decoding session: prompt \(i) is empty: a row needs at least one token")
        }
        for p in prompts { table[nextID] = Row(tokens: p); nextID += 1 }
        tokensScored += prompts.map(\.count).reduce(0, +)
        try settle(Array(0..<prompts.count))
    }

    deinit { for row in table.values { row.blocks.forEach(pool.release) } }

    /// The live rows, in creation order.
    public var rows: [Int] { table.keys.sorted() }

    private func row(_ id: Int) throws -> Row {
        guard let r = table[id] else {
            throw ModelInputError("decoding session: no row \(id) (live rows: \(rows.map(String.init).joined(separator: ", ")))")
        }
        return r
    }

    /// The full context of `row`.
    public func tokens(of row: Int) throws -> [Int32] { try self.row(row).tokens }

    /// `copies` children of each of `rows`, holding the parent's blocks (no copy); `result[i]` are
    /// `rows[i]`'s children.
    public func fork(_ rows: [Int], copies: Int) throws -> [[Int]] {
        guard copies >= 1 else { throw ModelInputError("decoding session: fork needs copies ≥ 1, got \(copies)") }
        let parents = try rows.map(row)
        return parents.map { parent in
            (0..<copies).map { _ in
                var child = parent
                child.rng = nil
                if sharesPrefixes {
                    parent.blocks.forEach(pool.retain)
                } else {
                    child.blocks = []
                    child.cached = 0
                }
                table[nextID] = child
                nextID += 1
                return nextID - 1
            }
        }
    }

    /// Teacher-forces `tokens[i]` onto `rows[i]`.
    public func append(_ tokens: [[Int32]], to rows: [Int]) throws {
        guard tokens.count == rows.count else {
            throw ModelInputError("decoding session: \(tokens.count) token lists for \(rows.count) rows")
        }
        let vocab = Int32(model.config.vocabSize)
        for (r, ts) in zip(rows, tokens) {
            _ = try row(r)
            if let bad = ts.first(where: { $0 < 0 || $0 >= vocab }) {
                throw ModelInputError("decoding session: token id \(bad) for row \(r) is outside the vocabulary 0..<\(vocab)")
            }
        }
        for (r, ts) in zip(rows, tokens) { table[r]!.tokens += ts }
        tokensScored += tokens.map(\.count).reduce(0, +)
        try settle(rows)
    }

    /// Drops `rows`, releasing their blocks.
    public func release(_ rows: [Int]) {
        for r in rows {
            guard let row = table.removeValue(forKey: r) else { continue }
            row.blocks.forEach(pool.release)
        }
    }

    /// Continues `rows` as one batch (see `DecodingSession.decode`): stops at exactly
    /// `options.stopTokenIds`, and row `r` samples from the stream keyed by `options.seed` and `r`,
    /// continued across calls with the same seed.
    public func decode(_ rows: [Int], options: GenerationOptions) throws -> [GeneratedSequence] {
        try options.validate(vocabSize: model.config.vocabSize)
        guard options.numReturnSequences == 1 else {
            throw ModelInputError("decoding session: decode takes num_return_sequences = 1, got \(options.numReturnSequences); fork the rows instead")
        }
        guard Set(rows).count == rows.count else { throw ModelInputError("decoding session: decode got a row twice: \(rows)") }
        var results = try rows.map { DecodingRow(context: try row($0).tokens) }
        if options.maxNewTokens == 0 { return results.map { $0.result(tokenizer: tokenizer) } }
        var samplers = rows.map { _ in Sampler(parameters: options) }
        var rngs = rows.map { r -> PhiloxRNG in
            let row = table[r]!
            if let rng = row.rng, row.rngSeed == options.seed { return rng }
            return Generator.stream(seed: options.seed, row: r)
        }
        var live = Array(rows.indices)
        while !live.isEmpty {
            let logits = try advance(live.map { rows[$0] })
            let picks = Generator.sample(logits, vocab: model.config.vocabSize, rows: live, samplers: &samplers, rngs: &rngs,
                                         contexts: results.map(\.context), produced: results.map(\.produced.count))
            var still = [Int]()
            for (i, k) in live.enumerated() {
                let (token, logprob) = picks[i]
                table[rows[k]]!.tokens.append(token)
                tokensGenerated += 1
                if !results[k].accept(token, logprob: logprob, options: options, tokenizer: tokenizer) { still.append(k) }
            }
            live = still
        }
        for (k, r) in rows.enumerated() {
            table[r]!.rng = rngs[k]
            table[r]!.rngSeed = options.seed
        }
        return results.map { $0.result(tokenizer: tokenizer) }
    }

    /// The next-token logits of each of `rows` (`vocab` floats each), leaving the rows as they were
    /// (a child is fed and dropped): for checking a session against a plain forward pass.
    public func nextTokenLogits(_ rows: [Int]) throws -> [[Float]] {
        let children = try fork(rows, copies: 1).map { $0[0] }
        defer { release(children) }
        let logits = try advance(children)
        let v = model.config.vocabSize, values = logits.scalars
        return children.indices.map { Array(values[$0 * v..<($0 + 1) * v]) }
    }

    /// Feeds every uncached token but the last of `rows`, rows with the same number in one batch
    /// each (rows with one or none are left alone).
    private func settle(_ rows: [Int]) throws {
        var groups: [Int: [Int]] = [:]
        for r in rows {
            let row = table[r]!
            try checkContext(r, row.tokens.count)
            let n = row.tokens.count - row.cached - 1
            if n > 0 { groups[n, default: []].append(r) }
        }
        for (count, batch) in groups.sorted(by: { $0.key < $1.key }) {
            _ = try withNoGrad { try forward(batch, count: count, logits: false) }
        }
    }

    /// Feeds each row's last token (settling the rest first) and returns the next-token logits
    /// `[rows, 1, vocab]` in `rows`' order.
    private func advance(_ rows: [Int]) throws -> Tensor {
        try settle(rows)
        guard let logits = try withNoGrad({ try forward(rows, count: 1, logits: true) }) else {
            throw ModelInputError("decoding session: no logits for rows \(rows)")
        }
        return logits
    }

    private func checkContext(_ row: Int, _ tokens: Int) throws {
        guard tokens <= model.config.maxPositionEmbeddings else {
            throw ModelInputError("decoding session: row \(row) holds \(tokens) tokens, more than the model's " +
                                  "context of \(model.config.maxPositionEmbeddings) (max_position_embeddings)")
        }
    }

    /// One pass over `count` new tokens of each row of `batch`, writing their keys and values into
    /// the rows' blocks; the last position's logits when `logits`.
    private func forward(_ batch: [Int], count t: Int, logits: Bool) throws -> Tensor? {
        guard let longest = batch.map({ table[$0]!.cached }).max() else {
            return logits ? Tensor.zeros([0, 1, model.config.vocabSize]) : nil
        }
        let b = batch.count, bs = pool.blockSize
        // Room for the new positions: fresh blocks, or a private copy of a shared partial block.
        for r in batch {
            var row = table[r]!
            let end = row.cached + t
            if row.cached % bs != 0, let last = row.blocks.last, pool.isShared(last) {
                row.blocks[row.blocks.count - 1] = pool.copyOnWrite(last, positions: row.cached % bs)
            }
            while row.blocks.count * bs < end { row.blocks.append(pool.allocate()) }
            table[r] = row
        }
        let starts = batch.map { table[$0]!.cached }
        let ids = batch.flatMap { r -> [Int32] in let row = table[r]!; return Array(row.tokens[row.cached..<row.cached + t]) }
        let span = longest + t
        var keep = [Int32](repeating: 0, count: b * span)
        for (i, s) in starts.enumerated() {
            for j in (span - s - t)..<span { keep[i * span + j] = 1 }
        }
        let mask = Tensor(shape: [b, 1, 1, span], int32: keep)
        var x = model.embed(Tensor(shape: [b, t], int32: ids))
        for (layerIndex, layer) in model.layers.enumerated() {
            let attention = layer.selfAttn
            let h = layer.inputLayernorm(x)
            let q = rope(attention.qProj(h).reshape([b, t, attention.heads, attention.headDim]).transpose(1, 2), starts, attention.ropeTheta)
            let k = rope(attention.kProj(h).reshape([b, t, attention.kvHeads, attention.headDim]).transpose(1, 2), starts, attention.ropeTheta)
            let v = attention.vProj(h).reshape([b, t, attention.kvHeads, attention.headDim]).transpose(1, 2).contiguous()
            write(k, v, layer: layerIndex, batch: batch, starts: starts, count: t)
            let (keys, values) = gather(layer: layerIndex, batch: batch, starts: starts, count: t, span: span)
            let out = Tensor.scaledDotProductAttention(query: q, key: keys, value: values, causal: true, mask: mask)
            let a = x + attention.oProj(out.transpose(1, 2).reshape([b, t, attention.heads * attention.headDim]))
            x = a + layer.mlp(layer.postAttentionLayernorm(a))
        }
        for r in batch { table[r]!.cached += t }
        forwardPasses += 1
        positionsComputed += b * t
        guard logits else { return nil }
        let last = t > 1 ? x.narrow(1, start: t - 1, length: 1) : x
        return model.lmHead(model.norm(last))
    }

    /// RoPE of `[B, H, T, D]` with row `i`'s positions starting at `starts[i]`.
    private func rope(_ x: Tensor, _ starts: [Int], _ theta: Float) -> Tensor {
        if Set(starts).count == 1 { return x.rope(theta: theta, positionOffset: starts[0]) }
        return Tensor.concat(starts.enumerated().map { i, s in x.narrow(0, start: i, length: 1).rope(theta: theta, positionOffset: s) }, axis: 0)
    }

    /// Copies the new keys and values (`[B, Hkv, T, D]`, contiguous) into the rows' blocks.
    private func write(_ k: Tensor, _ v: Tensor, layer: Int, batch: [Int], starts: [Int], count t: Int) {
        let hkv = pool.kvHeads, d = pool.headDim, bs = pool.blockSize
        withExtendedLifetime((k, v)) {
            for (i, r) in batch.enumerated() {
                let blocks = table[r]!.blocks
                for head in 0..<hkv {
                    for j in 0..<t {
                        let pos = starts[i] + j
                        let src = ((i * hkv + head) * t + j) * d
                        pool.pointer(blocks[pos / bs], layer: layer, value: false, head: head, slot: pos % bs).update(from: k.floatPointer + src, count: d)
                        pool.pointer(blocks[pos / bs], layer: layer, value: true, head: head, slot: pos % bs).update(from: v.floatPointer + src, count: d)
                    }
                }
            }
        }
    }

    /// Every row's keys and values so far, left-padded to `span` positions (`[B, Hkv, span, D]`):
    /// attention reads the shared blocks through this per-pass view.
    private func gather(layer: Int, batch: [Int], starts: [Int], count t: Int, span: Int) -> (Tensor, Tensor) {
        let hkv = pool.kvHeads, d = pool.headDim, bs = pool.blockSize
        let keys = Tensor.zeros([batch.count, hkv, span, d]), values = Tensor.zeros([batch.count, hkv, span, d])
        for (i, r) in batch.enumerated() {
            let blocks = table[r]!.blocks
            let length = starts[i] + t, pad = span - length
            for head in 0..<hkv {
                let base = ((i * hkv + head) * span + pad) * d
                var pos = 0
                while pos < length {
                    let run = min(bs - pos % bs, length - pos)
                    let block = blocks[pos / bs]
                    (keys.floatPointer + base + pos * d).update(from: pool.pointer(block, layer: layer, value: false, head: head, slot: pos % bs), count: run * d)
                    (values.floatPointer + base + pos * d).update(from: pool.pointer(block, layer: layer, value: true, head: head, slot: pos % bs), count: run * d)
                    pos += run
                }
            }
        }
        return (keys, values)
    }
}
