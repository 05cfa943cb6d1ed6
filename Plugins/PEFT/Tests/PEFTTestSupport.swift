import Foundation
import TemperCore
import XCTest

/// Shared fixtures for the PEFT tests: the plugin loaded through the host's loader (as `temper`
/// does), tiny random Llama models and a few numeric helpers.
enum PEFTTestSupport {
    /// The repository's `fixtures/` folder (how each fixture was made: fixtures/README.md).
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures")
    static let tinyDir = fixtures.appendingPathComponent("tiny-llama-hf")

    static let loaded: Bool = {
        _ = PluginLoader.shared.load(.standard())
        return ComponentRegistry.shared.descriptor(named: "lora") != nil
    }()

    static func method(_ spec: String) throws -> any PEFTMethod {
        XCTAssertTrue(loaded, "libTemperPluginPEFT.so was not loaded")
        return try ComponentRegistry.shared.peft(spec)
    }

    static func config(bias: Bool = false) -> ModelConfig {
        ModelConfig(vocabSize: 61, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2,
                    numAttentionHeads: 4, numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000,
                    maxPositionEmbeddings: 64, tieWordEmbeddings: true, attentionBias: bias)
    }

    static func model(seed: UInt64 = 3, bias: Bool = false) throws -> LlamaModel {
        try LlamaModel(config: config(bias: bias), seed: seed, initStd: 0.2)
    }

    static let ids = Tensor(shape: [2, 5], int32: [3, 14, 15, 9, 26, 5, 35, 8, 9, 7])

    static func logits(_ model: LlamaModel) throws -> [Float] {
        try withNoGrad { try model.forward(ids) }.scalars
    }

    /// Overwrites a leaf's values with N(0, std²) draws (e.g. to move LoRA's B away from zero).
    static func randomize(_ t: Tensor, std: Float, seed: UInt64) {
        var rng = PhiloxRNG(seed: seed)
        t.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = rng.nextNormal() * std } }
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("temper-peft-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Checks `grad` (from backward) of `parameter` against central differences of `loss`
    /// at a few elements.
    static func checkGradient(of parameter: Tensor, indices: [Int], eps: Float = 1e-2, tolerance: Float = 2e-2,
                              loss: () throws -> Float, file: StaticString = #filePath, line: UInt = #line) rethrows {
        guard let grad = parameter.grad?.scalars else { return XCTFail("no gradient", file: file, line: line) }
        for i in indices {
            let p = parameter.floatPointer
            let old = p[i]
            p[i] = old + eps
            let up = try loss()
            p[i] = old - eps
            let down = try loss()
            p[i] = old
            let numeric = (up - down) / (2 * eps)
            XCTAssertEqual(grad[i], numeric, accuracy: tolerance * max(1, abs(numeric)), "element \(i)", file: file, line: line)
        }
    }
}
