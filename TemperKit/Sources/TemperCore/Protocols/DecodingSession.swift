/// Step-by-step decoding for tree searches: a set of rows, each a token context with its model
/// state (a KV cache), that can be forked, extended and continued.
///
/// Rows are named by ids the session hands out (`startSession`'s prompts are rows `0..<n`).
/// `fork` makes children that share the parent's cached prefix instead of copying it, so a beam or
/// tree search over depth d pays for each prefix once, not d times. Everything a session computes
/// is charged to its handle's `usage`.
public protocol DecodingSession: AnyObject {
    /// The live rows, in creation order.
    var rows: [Int] { get }
    /// The full context of `row`: its prompt and every token appended or decoded since.
    func tokens(of row: Int) throws -> [Int32]
    /// `copies` children of each row of `rows`, sharing its context (and cache); `result[i]` holds
    /// the new ids of `rows[i]`'s children. The parents stay live.
    func fork(_ rows: [Int], copies: Int) throws -> [[Int]]
    /// Teacher-forces `tokens[i]` onto `rows[i]` (a "Wait" in budget forcing, a verifier question):
    /// the tokens are scored, not sampled.
    func append(_ tokens: [[Int32]], to rows: [Int]) throws
    /// Continues every row of `rows` (as one batch) until a stop token (the model's or
    /// `options.stopTokenIds`), a stop string or `options.maxNewTokens`, and returns what each
    /// produced; the produced tokens (stop token and stop string included) join the row's context.
    /// `options.numReturnSequences` must be 1 (fork first for several). Row `r` samples from its own
    /// random stream keyed by `options.seed` and `r`, continued across calls.
    func decode(_ rows: [Int], options: GenerationOptions) throws -> [GeneratedSequence]
    /// Drops `rows`; what only they held is freed.
    func release(_ rows: [Int])
}

extension DecodingSession {
    /// The error for a row id this session does not hold.
    public static func unknownRow(_ row: Int, live: [Int]) -> ModelInputError {
        ModelInputError("decoding session: no row \(row) (live rows: \(live.map(String.init).joined(separator: ", ")))")
    }
}
