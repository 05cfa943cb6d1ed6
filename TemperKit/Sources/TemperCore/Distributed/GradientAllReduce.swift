import Foundation

/// Sums the gradients of the trainable parameters over all ranks, so every rank holds the
/// gradient of the whole global batch before the norm, clipping and the optimizer step.
///
/// The gradients are copied into one flat float buffer a bucket at a time (`bucketElements`
/// floats, 16 MiB by default: one collective per bucket, as DDP's buckets, instead of one per
/// tensor) and copied back after the sum. A parameter that got no gradient on any rank keeps none
/// (the optimizer then skips it, as a single process would); one that got a gradient on some rank
/// gets the sum, missing ranks counting as zeros.
public enum GradientAllReduce {
    /// Floats per all-reduce call.
    public static let defaultBucketElements = 4 << 20

    /// Sums every gradient of `parameters` over the ranks of `communicator`, in place.
    public static func sum(_ parameters: [NamedParameter], communicator: any Communicator, bucketElements: Int = defaultBucketElements) throws {
        guard communicator.worldSize > 1 else { return }
        // Which parameters have a gradient anywhere: one small reduction first.
        let present = try communicator.allReduceSum(parameters.map { $0.tensor.grad == nil ? 0.0 : 1.0 })
        var live: [(parameter: NamedParameter, grad: Tensor)] = []
        for (p, count) in zip(parameters, present) where count > 0 {
            let grad = p.tensor.grad.map { $0.isContiguous ? $0 : $0.copy() } ?? Tensor.zeros(p.tensor.shape)
            p.tensor.grad = grad
            live.append((p, grad))
        }
        var bucket = [Float](repeating: 0, count: max(1, bucketElements))
        var index = 0, offset = 0
        // Walks the gradients as one long vector cut into buckets; a tensor may span two buckets.
        while index < live.count {
            var pieces: [(grad: Tensor, from: Int, count: Int, at: Int)] = []
            var filled = 0
            while filled < bucket.count, index < live.count {
                let g = live[index].grad
                let n = min(g.count - offset, bucket.count - filled)
                pieces.append((g, offset, n, filled))
                filled += n
                offset += n
                if offset == g.count { index += 1; offset = 0 }
            }
            try bucket.withUnsafeMutableBufferPointer { buffer in
                for piece in pieces {
                    withExtendedLifetime(piece.grad) {
                        (buffer.baseAddress! + piece.at).update(from: piece.grad.floatPointer + piece.from, count: piece.count)
                    }
                }
                try communicator.allReduceSum(UnsafeMutableBufferPointer(rebasing: buffer[0..<filled]))
                for piece in pieces {
                    withExtendedLifetime(piece.grad) {
                        (piece.grad.floatPointer + piece.from).update(from: buffer.baseAddress! + piece.at, count: piece.count)
                    }
                }
            }
        }
    }
}
