/// Tells a caller when backward has added a pass's gradient into a leaf, so that data-parallel
/// training can start summing that gradient over the ranks while backward goes on through the
/// earlier layers (what PyTorch DDP's autograd hooks do).
///
/// In a plain graph every leaf's contributions are summed before the leaf is reached, so the
/// observer sees each leaf once per backward, with its gradient final for that pass. A leaf used
/// inside several checkpointed segments (`Tensor.checkpoint`) is reached once per segment: a
/// caller must allow for a leaf seen again after it believed it final.
public enum GradientReadyHook {
    nonisolated(unsafe) private static var observer: ((Tensor) -> Void)?

    /// Runs `body` (one backward pass) with `observer` called for each leaf right after backward
    /// has added a gradient into its `grad`; the previous observer, if any, is restored after.
    public static func withObserver<R>(_ observer: @escaping (Tensor) -> Void, _ body: () throws -> R) rethrows -> R {
        let saved = self.observer
        self.observer = observer
        defer { self.observer = saved }
        return try body()
    }

    /// Called by backward after accumulating into `leaf.grad`.
    @inline(__always) static func gradientAdded(to leaf: Tensor) { observer?(leaf) }
}
