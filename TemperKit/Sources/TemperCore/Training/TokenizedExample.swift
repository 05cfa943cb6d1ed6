/// One training sequence: token ids and which of them the loss is computed on.
public struct TokenizedExample: Equatable {
    /// Token ids.
    public var ids: [Int32]
    /// true where the token is a prediction target (completion or assistant tokens). Always false
    /// at position 0, which no earlier token predicts, so the count of true entries is exactly the
    /// number of target tokens.
    public var lossMask: [Bool]

    /// An example from parts; `lossMask` must be as long as `ids`.
    public init(ids: [Int32], lossMask: [Bool]) {
        precondition(ids.count == lossMask.count, "TokenizedExample: \(ids.count) ids but \(lossMask.count) mask entries")
        self.ids = ids
        self.lossMask = lossMask
        if !self.lossMask.isEmpty { self.lossMask[0] = false }
    }

    /// Number of target tokens.
    public var targetCount: Int { lossMask.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// The first `maxLength` tokens (TRL truncates on the right).
    public func truncated(to maxLength: Int) -> TokenizedExample {
        ids.count <= maxLength ? self : TokenizedExample(ids: Array(ids.prefix(maxLength)), lossMask: Array(lossMask.prefix(maxLength)))
    }
}
