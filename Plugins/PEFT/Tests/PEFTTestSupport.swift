import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// What the PEFT tests share beyond TemperTestSupport: the PEFT plugin (and the other built
/// plugins) loaded through the host's loader, as `temper` does; tiny random Llama models with one
/// fixed batch of token ids; and moving trainable leaves away from their initial values.
enum PEFTTestSupport {
    /// The tiny Hugging Face model folder of `fixtures/` (how it was made: fixtures/README.md).
    static let tinyDir = TemperRepository.fixtures.appendingPathComponent("tiny-llama-hf")

    /// Loads the built plugins, failing the current test if the PEFT plugin is missing.
    static func loadPlugins(file: StaticString = #filePath, line: UInt = #line) {
        TestPlugins.loadBuilt(requiring: ["lora"], file: file, line: line)
    }

    static func method(_ spec: String) throws -> any PEFTMethod {
        loadPlugins()
        return try ComponentRegistry.shared.peft(spec)
    }

    static func model(seed: UInt64 = 3, bias: Bool = false) throws -> LlamaModel {
        try TinyLlama.model(attentionBias: bias, seed: seed)
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

    /// Checks `grad` (from backward) of `parameter` against central differences of `loss`
    /// at a few elements.
    static func checkGradient(of parameter: Tensor, indices: [Int], eps: Float = 1e-2, tolerance: Float = 2e-2,
                              loss: () throws -> Float, file: StaticString = #filePath, line: UInt = #line) rethrows {
        guard let grad = parameter.grad?.scalars else { return XCTFail("no gradient", file: file, line: line) }
        for i in indices {
            let p = parameter.floatPointer
            let old = p[i]
            defer { p[i] = old }   // a throwing loss must not leave the parameter perturbed
            p[i] = old + eps
            let up = try loss()
            p[i] = old - eps
            let down = try loss()
            let numeric = (up - down) / (2 * eps)
            XCTAssertEqual(grad[i], numeric, accuracy: tolerance * max(1, abs(numeric)), "element \(i)", file: file, line: line)
        }
    }
}
