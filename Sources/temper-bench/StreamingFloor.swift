import Foundation
import TemperModels
import TemperTensor

/// The floor of a decode step's products on this machine, measured in the same process: a plain
/// read of every float weight a step multiplies with (the seven projections of every layer and the
/// LM head), in the same passes of the worker threads as the products (q/k/v together, o, gate/up
/// together, down, then the head), each pass split between the threads by contiguous ranges.
///
/// At small batch the products should be bound by these bytes; the profile prints their time
/// beside this one, so a run says how far from streaming the kernels are rather than assuming it.
enum StreamingFloor {
    /// Bytes read and the best wall time of `repeats` reads; nil when a weight is held in blocks
    /// (then the step reads fewer bytes than the float shapes say).
    static func measure(_ model: LlamaModel, repeats: Int = 5) -> (bytes: Int, seconds: Double)? {
        var passes: [[Linear]] = model.layers.flatMap { l in
            [[l.selfAttn.qProj, l.selfAttn.kProj, l.selfAttn.vProj], [l.selfAttn.oProj],
             [l.mlp.gateProj, l.mlp.upProj], [l.mlp.downProj]]
        }
        passes.append([model.lmHead])
        guard passes.allSatisfy({ $0.allSatisfy { !$0.isQuantized } }) else { return nil }
        let weights = passes.map { $0.map(\.weight) }
        let bytes = weights.joined().reduce(0) { $0 + $1.count * 4 }
        let threads = Parallel.threadCount
        var best = Double.infinity
        var sums = [Float](repeating: 0, count: threads)
        withExtendedLifetime(weights) {
            sums.withUnsafeMutableBufferPointer { out in
                for _ in 0..<repeats {
                    let start = DispatchTime.now().uptimeNanoseconds
                    for pass in weights {
                        Parallel.forEach(threads) { t in
                            for w in pass {
                                let per = ((w.count + threads - 1) / threads + 15) & ~15
                                let lo = min(w.count, t * per), hi = min(w.count, lo + per)
                                out[t] += sum(w.floatPointer + lo, count: hi - lo)
                            }
                        }
                    }
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                }
            }
        }
        // The sums are kept so the reads cannot be optimised away; they are not otherwise used.
        sink = sums.reduce(0, +)
        return (bytes, best)
    }

    nonisolated(unsafe) private static var sink: Float = 0

    /// Σ p[0..<count], four independent 8-lane accumulators so the loads, not the additions, bound it.
    private static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        typealias V = SIMD8<Float>
        let raw = UnsafeRawPointer(p)
        var a = V(), b = V(), c = V(), d = V()
        var i = 0
        while i + 32 <= count {
            a += raw.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            b += raw.loadUnaligned(fromByteOffset: i * 4 + 32, as: V.self)
            c += raw.loadUnaligned(fromByteOffset: i * 4 + 64, as: V.self)
            d += raw.loadUnaligned(fromByteOffset: i * 4 + 96, as: V.self)
            i += 32
        }
        var s = (a + b + c + d).sum()
        while i < count { s += p[i]; i += 1 }
        return s
    }
}
