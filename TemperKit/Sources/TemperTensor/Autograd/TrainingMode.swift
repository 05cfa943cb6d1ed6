/// Whether layers behave as in training (dropout active) or as in evaluation, and which random
/// stream their dropout masks come from.
///
/// Separate from `GradMode`: an RL step computes log-probabilities with gradients on but must not
/// drop activations in the old-policy or reference passes, and a rollout samples with the policy's
/// full weights. Layers drop only when both recording and training are on (`isDropoutActive`).
///
/// Dropout masks are a pure function of where they are drawn: the trainer sets a key for each
/// micro-batch (`withDropoutKey`, from the seed, the optimizer step and the micro-batch index), and
/// each draw inside it takes the next draw number; a layer mixes in a salt of its own (its name's
/// hash) with `nextDropoutSeed`. Nothing about dropout then needs saving for an exact resume, and
/// activation checkpointing replays a segment's draws by restoring the state it began with
/// (`dropoutState`, `withDropoutState`).
public enum TrainingMode {
    nonisolated(unsafe) private static var evalDepth = 0
    nonisolated(unsafe) private static var key: UInt64 = 0
    nonisolated(unsafe) private static var draws: UInt64 = 0
    /// Set while a checkpointed segment runs: whether dropout was active where it was recorded
    /// (its first pass runs without recording, its recompute inside backward).
    nonisolated(unsafe) private static var replayedActivity: Bool?

    /// True unless inside `withEvalMode`.
    @inline(__always) public static var isTraining: Bool { evalDepth == 0 }

    /// Dropout applies: training mode and autograd recording. Evaluation and generation (under
    /// `withNoGrad`) and passes inside `withEvalMode` see the full network.
    @inline(__always) public static var isDropoutActive: Bool { evalDepth == 0 && (replayedActivity ?? GradMode.isEnabled) }

    /// Runs `body` in evaluation mode (nestable): gradients still flow if recording is on.
    public static func withEvalMode<R>(_ body: () throws -> R) rethrows -> R {
        evalDepth += 1
        defer { evalDepth -= 1 }
        return try body()
    }

    /// The key for micro-batch `microBatch` of optimizer step `step` in a run seeded with `seed`:
    /// distinct for every (seed, step, micro-batch), the same whenever that micro-batch is run again.
    public static func dropoutKey(seed: UInt64, step: Int, microBatch: Int) -> UInt64 {
        let bits = PhiloxRNG.block(seed: seed ^ 0xD1B5_4A32_D192_ED03, counter: UInt64(truncatingIfNeeded: step) << 16 ^ UInt64(truncatingIfNeeded: microBatch))
        return UInt64(bits.x) << 32 | UInt64(bits.y)
    }

    /// Runs `body` with dropout masks drawn from `key`, draw numbers starting at 0; the previous
    /// key and count come back afterwards.
    public static func withDropoutKey<R>(_ key: UInt64, _ body: () throws -> R) rethrows -> R {
        let saved = (Self.key, draws)
        Self.key = key
        draws = 0
        defer { (Self.key, draws) = saved }
        return try body()
    }

    /// The seed of the next dropout mask for a layer with `salt` (e.g. `stableHash` of its name): a
    /// function of the key, the draw number and the salt. Advances the draw number.
    public static func nextDropoutSeed(salt: UInt64) -> UInt64 {
        let bits = PhiloxRNG.block(seed: key ^ salt, counter: draws)
        draws &+= 1
        return UInt64(bits.x) << 32 | UInt64(bits.y)
    }

    /// Everything that decides the masks a computation draws from here on.
    public struct DropoutState: Equatable, Sendable {
        let key: UInt64
        let draws: UInt64
        let active: Bool
    }

    /// The state now, to replay a computation's masks later (activation checkpointing).
    public static var dropoutState: DropoutState { DropoutState(key: key, draws: draws, active: isDropoutActive) }

    /// Runs `body` drawing exactly the masks it drew when `state` was taken, with dropout on or off
    /// as it was then, whatever the recording mode now. If `advancing`, the draws `body` made count
    /// afterwards (the segment's first pass); otherwise the state before the call comes back (its
    /// recompute).
    public static func withDropoutState<R>(_ state: DropoutState, advancing: Bool, _ body: () throws -> R) rethrows -> R {
        let saved = (key, draws, replayedActivity, evalDepth)
        key = state.key
        draws = state.draws
        replayedActivity = state.active
        evalDepth = 0
        defer {
            (key, replayedActivity, evalDepth) = (saved.0, saved.2, saved.3)
            if !advancing { draws = saved.1 }
        }
        return try body()
    }

    /// A hash of `text` that is the same in every process (FNV-1a; Swift's `Hasher` is seeded per
    /// process): the salt that keeps two layers' masks apart.
    public static func stableHash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}

/// Runs `body` in evaluation mode (no dropout), with gradients as they are.
public func withEvalMode<R>(_ body: () throws -> R) rethrows -> R {
    try TrainingMode.withEvalMode(body)
}
