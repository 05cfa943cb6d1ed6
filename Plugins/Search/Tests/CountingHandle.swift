import TemperCore
import TemperTestSupport

/// A `LanguageModelHandle` that passes every call to `inner` and counts, from what the calls ask
/// for and return, the compute a batched decoder spends: the count to check the inner handle's own
/// `usage` against without trusting its accounting. A session prefill is one pass over its prompt
/// tokens; a decode is one pass per token of its longest row and generates what it returns; a
/// `logprobs` call is one pass per batch of `logprobBatchSize` pairs over all their tokens.
final class CountingHandle: ForwardingLanguageModel {
    let logprobBatchSize: Int
    /// What the calls through this handle spent, counted here.
    fileprivate(set) var counted = ComputeUsage()

    init(_ inner: any LanguageModelHandle, logprobBatchSize: Int) {
        self.logprobBatchSize = logprobBatchSize
        super.init(inner)
    }

    override func generate(prompts: [[Int32]], options: GenerationOptions) throws -> [[GeneratedSequence]] {
        let out = try inner.generate(prompts: prompts, options: options)
        count(decoded: out.flatMap { $0 })
        counted.tokensScored += prompts.map(\.count).reduce(0, +)
        return out
    }

    override func logprobs(_ pairs: [LogprobRequest]) throws -> [[Float]] {
        let out = try inner.logprobs(pairs)
        counted.forwardPasses += (pairs.count + logprobBatchSize - 1) / logprobBatchSize
        counted.tokensScored += pairs.map { $0.prompt.count + $0.continuation.count }.reduce(0, +)
        return out
    }

    override func startSession(prompts: [[Int32]]) throws -> any DecodingSession {
        let session = try inner.startSession(prompts: prompts)
        counted.forwardPasses += prompts.isEmpty ? 0 : 1
        counted.tokensScored += prompts.map(\.count).reduce(0, +)
        return CountingSession(session, owner: self)
    }

    fileprivate func count(decoded: [GeneratedSequence]) {
        counted.forwardPasses += decoded.map(\.tokenIDs.count).max() ?? 0
        counted.tokensGenerated += decoded.map(\.tokenIDs.count).reduce(0, +)
    }
}

/// `CountingHandle`'s session: counts its decodes. Appends are refused, their cost depending on
/// how the inner session batches them.
private final class CountingSession: DecodingSession {
    let inner: any DecodingSession
    unowned let owner: CountingHandle

    init(_ inner: any DecodingSession, owner: CountingHandle) {
        self.inner = inner
        self.owner = owner
    }

    var rows: [Int] { inner.rows }
    func tokens(of row: Int) throws -> [Int32] { try inner.tokens(of: row) }
    func fork(_ rows: [Int], copies: Int) throws -> [[Int]] { try inner.fork(rows, copies: copies) }
    func release(_ rows: [Int]) { inner.release(rows) }

    struct AppendNotCounted: Error, CustomStringConvertible {
        var description: String { "CountingHandle: session appends are not counted" }
    }

    func append(_ tokens: [[Int32]], to rows: [Int]) throws { throw AppendNotCounted() }

    func decode(_ rows: [Int], options: GenerationOptions) throws -> [GeneratedSequence] {
        let out = try inner.decode(rows, options: options)
        owner.count(decoded: out)
        return out
    }
}
