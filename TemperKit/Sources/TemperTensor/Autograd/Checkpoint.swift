extension Tensor {
    /// Activation checkpointing: runs `body` without keeping its intermediate activations, and runs it
    /// again during backward to get them back. Trades one extra forward of the segment for its memory.
    ///
    /// Gradients reach `inputs` that require grad and every leaf parameter `body` uses (they
    /// accumulate into `grad` during the recomputation's own backward). `body` must compute the same
    /// values when run again: its only random draws may be dropout masks from `TrainingMode`, which
    /// the recompute replays (same key and draw numbers, dropout on or off as in the first pass).
    public static func checkpoint(_ inputs: [Tensor], _ body: @escaping ([Tensor]) -> Tensor) -> Tensor {
        guard GradMode.isEnabled else { return body(inputs) }
        let dropout = TrainingMode.dropoutState
        let output = TrainingMode.withDropoutState(dropout, advancing: true) { GradMode.withNoGrad { body(inputs) } }
        // Recorded even when no input requires grad: the parameters inside `body` may.
        output.requiresGrad = true
        output.gradFn = GradFn(name: "checkpoint", inputs: inputs, output: output) { gradOutput in
            let replay = inputs.map { t -> Tensor in
                let d = t.detached()
                d.requiresGrad = t.requiresGrad
                return d
            }
            // Its products are charged to the profiler's recompute row, not to the input gradients.
            let recomputed = TrainingMode.withDropoutState(dropout, advancing: false) {
                GradMode.withGradEnabled { GEMMProfiler.withRole(.recompute) { body(replay) } }
            }
            if recomputed.requiresGrad { recomputed.backward(gradOutput) }
            return replay.map { $0.requiresGrad ? $0.grad : nil }
        }
        return output
    }
}
