import Foundation
import XCTest
@testable import TemperModels
import TemperTensor

final class ZZFormatsTimingTests: XCTestCase {
    func testTiming() throws {
        let url = SmolLM2GGUFTests.modelURL
        var t0 = Date()
        let g = try GGUFFile(contentsOf: url)
        print("open+parse: \(Date().timeIntervalSince(t0) * 1000) ms")
        let c = try ModelConfig(gguf: g)
        for threads in [1, 2] {
            Parallel.threadCount = threads
            t0 = Date()
            let w = try g.huggingFaceWeights(config: c)
            let n = w.values.reduce(0) { $0 + $1.count }
            let dt = Date().timeIntervalSince(t0)
            print("threads \(threads): dequantize \(n) values in \(dt * 1000) ms = \(Double(n) / dt / 1e6) M values/s")
        }
        let q = try g.tensorInfo(named: "blk.0.ffn_up.weight")!
        t0 = Date()
        for _ in 0..<20 { _ = try g.tensor(named: q.name) }
        print("Q4_1 1536x576 x20: \(Date().timeIntervalSince(t0) * 1000 / 20) ms each")
    }
}
