import Foundation
import TemperCore
import TemperTestSupport
import XCTest

final class OtherMethodTests: XCTestCase {
    typealias S = PEFTTestSupport

    func testFullTrainsEverything() throws {
        let model = try S.model()
        let full = try S.method("full")
        let count = try full.apply(to: model)
        XCTAssertEqual(count, ParameterCount(trainable: model.parameterCount, total: model.parameterCount))
        XCTAssertTrue(model.namedParameters.allSatisfy(\.tensor.requiresGrad))
        let groups = full.trainableGroups()
        XCTAssertEqual(groups.map(\.name), ["decay", "no_decay"])
        XCTAssertEqual(groups[1].weightDecay, 0)
        XCTAssertTrue(groups[1].parameters.allSatisfy { $0.name.contains("norm") })
        XCTAssertEqual(groups.flatMap(\.parameters).count, model.namedParameters.count)
        XCTAssertThrowsError(try full.export()) { XCTAssertTrue("\($0)".contains("not a PEFT adapter")) }
    }

    func testBitFitTrainsBiasesOrSaysThereAreNone() throws {
        XCTAssertThrowsError(try S.method("bitfit").apply(to: try S.model())) { e in
            XCTAssertTrue("\(e)".contains("no bias parameters"), "\(e)")
        }
        let model = try S.model(bias: true)
        let bitfit = try S.method("bitfit")
        let count = try bitfit.apply(to: model)
        // attention_bias: q, k, v and o biases (16 + 8 + 8 + 16) in each of 2 layers.
        XCTAssertEqual(count, ParameterCount(trainable: 2 * 48, total: model.parameterCount))
        let trainable = model.namedParameters.filter(\.tensor.requiresGrad)
        XCTAssertEqual(trainable.count, 8)
        XCTAssertTrue(trainable.allSatisfy { $0.name.hasSuffix(".bias") })
        XCTAssertEqual(bitfit.trainableGroups()[0].parameters.count, 8)
    }

    func testIA3StartsAtBaseScalesAsPEFTAndRoundTrips() throws {
        let model = try S.model(seed: 5)
        let base = try S.logits(model)
        let ia3 = try S.method("ia3")
        let count = try ia3.apply(to: model)
        XCTAssertEqual(count.trainable, 2 * (8 + 8 + 24))          // k, v outputs; down_proj's 24 inputs
        XCTAssertEqual(try S.logits(model), base)                   // ones: exact identity
        let params = ia3.trainableGroups()[0].parameters
        XCTAssertEqual(params.map(\.name).prefix(3), ["model.layers.0.self_attn.k_proj.ia3_l", "model.layers.0.self_attn.v_proj.ia3_l", "model.layers.0.mlp.down_proj.ia3_l"])
        for (i, p) in params.enumerated() {
            p.tensor.withUnsafeMutableBufferPointer { q in for j in 0..<q.count { q[j] = 1 + 0.3 * sin(Float(i * 31 + j)) } }
        }
        // Output scaling of k_proj: y = l ⊙ (W·x).
        let k = model.linearLayers[1], down = model.linearLayers[6]
        var rng = PhiloxRNG(seed: 1)
        let x = Tensor.randn([2, 16], rng: &rng), h = Tensor.randn([2, 24], rng: &rng)
        let l = params[0].tensor.scalars, base1 = withNoGrad { k.baseForward(x) }.scalars
        XCTAssertLessThan(maxDifference(withNoGrad { k(x) }.scalars, (0..<16).map { base1[$0] * l[$0 % 8] }), 1e-6)
        // Input scaling of down_proj: y = W·(l ⊙ h).
        let ld = Tensor(params[2].tensor.scalars)
        XCTAssertLessThan(maxDifference(withNoGrad { down(h) }.scalars, withNoGrad { down.baseForward(h * ld) }.scalars), 1e-6)

        let adapted = try S.logits(model)
        try ia3.merge(into: model)
        XCTAssertLessThan(maxDifference(try S.logits(model), adapted), 2e-5)
        try ia3.unmerge(from: model)
        XCTAssertEqual(try S.logits(model), adapted)

        let export = try ia3.export()
        XCTAssertEqual(export.tensors["base_model.model.model.layers.0.self_attn.k_proj.ia3_l"]?.shape, [8, 1])
        XCTAssertEqual(export.tensors["base_model.model.model.layers.0.mlp.down_proj.ia3_l"]?.shape, [1, 24])
        XCTAssertEqual(export.config["feedforward_modules"], .array([.string("down_proj")]))
        let dir = try makeTemporaryFolder("peft")
        try PEFTAdapterFiles.write(export, to: dir)
        let fresh = try S.model(seed: 5)
        _ = try PEFTAdapterLoader.load(from: dir, into: fresh)
        XCTAssertEqual(try S.logits(fresh), adapted)
    }

    func testIA3GradientMatchesFiniteDifferences() throws {
        let model = try S.model(seed: 6)
        let ia3 = try S.method("ia3")
        _ = try ia3.apply(to: model)
        var rng = PhiloxRNG(seed: 2)
        let c = Tensor.randn([2, 5, 61], rng: &rng)
        try (model.forward(S.ids) * c).sum().backward()
        let loss = { try withNoGrad { try (model.forward(S.ids) * c).sum().item } }
        for p in ia3.trainableGroups()[0].parameters.prefix(3) {
            try S.checkGradient(of: p.tensor, indices: [0, 5], eps: 2e-2, tolerance: 3e-2, loss: loss)
        }
    }

    func testPromptTuningRandomAndTextInitAndRoundTrip() throws {
        let model = try S.model(seed: 9)
        let pt = try S.method("prompt-tuning:num_virtual_tokens=3")
        let count = try pt.apply(to: model)
        XCTAssertEqual(count, ParameterCount(trainable: 48, total: model.parameterCount + 48))
        XCTAssertEqual(model.virtualTokens?.shape, [3, 16])
        let logits = try withNoGrad { try model.forward(S.ids) }
        XCTAssertEqual(logits.shape, [2, 5, 61])
        let prompted = logits.scalars
        XCTAssertThrowsError(try S.method("prompt-tuning").apply(to: model)) { XCTAssertTrue("\($0)".contains("already has")) }
        XCTAssertThrowsError(try S.method("prompt-tuning").apply(to: OneLayerModel(outFeatures: 2, inFeatures: 2))) {
            XCTAssertTrue("\($0)".contains("needs a Llama-family model"), "\($0)")
        }

        let export = try pt.export()
        XCTAssertEqual(export.tensors["prompt_embeddings"]?.shape, [3, 16])
        XCTAssertEqual(export.config["peft_type"], .string("PROMPT_TUNING"))
        let dir = try makeTemporaryFolder("peft")
        try PEFTAdapterFiles.write(export, to: dir)
        let fresh = try S.model(seed: 9)
        _ = try PEFTAdapterLoader.load(from: dir, into: fresh)
        XCTAssertEqual(try withNoGrad { try fresh.forward(S.ids) }.scalars, prompted)

        XCTAssertThrowsError(try S.method("prompt-tuning:prompt_tuning_init=text")) { XCTAssertTrue("\($0)".contains("tokenizer_name_or_path"), "\($0)") }
        let tiny = try LlamaModel.load(from: S.tinyDir)
        let textInit = try S.method("prompt-tuning:num_virtual_tokens=5,prompt_tuning_init=text,prompt_tuning_init_text=Hello world,tokenizer_name_or_path=\(S.tinyDir.path)")
        _ = try textInit.apply(to: tiny)
        let ids = try Tokenizer(directory: S.tinyDir).encode("Hello world")
        XCTAssertEqual(ids.count, 2)
        let h = tiny.config.hiddenSize, e = tiny.embedTokens.scalars, vt = tiny.virtualTokens!.scalars
        for i in 0..<5 {     // the text's tokens repeated to fill the virtual tokens, as PEFT does
            let id = Int(ids[i % 2])
            XCTAssertEqual(Array(vt[i * h ..< (i + 1) * h]), Array(e[id * h ..< (id + 1) * h]))
        }
    }

    /// A count from a spec or a saved config is checked before it is allocated (issue 15: 10^8 virtual
    /// tokens aborted the process); the tiny model has 64 positions.
    func testVirtualTokensBeyondTheModelsPositionsAreErrors() throws {
        for method in ["prompt-tuning", "prefix-tuning"] {
            for n in [64, 100_000_000] {
                let model = try S.model(seed: 4)
                XCTAssertThrowsError(try S.method("\(method):num_virtual_tokens=\(n)").apply(to: model)) {
                    XCTAssertEqual("\($0)", "\(method): num_virtual_tokens = \(n) leaves no position for the input: "
                                   + "the model has max_position_embeddings = 64")
                }
                XCTAssertNil(model.virtualTokens)
                XCTAssertNil(model.prefixKeyValues)
            }
        }
    }

    func testPrefixTuningLayoutAndRoundTrip() throws {
        let model = try S.model(seed: 4)
        let base = try S.logits(model)
        let prefix = try S.method("prefix-tuning:num_virtual_tokens=3")
        let count = try prefix.apply(to: model)
        XCTAssertEqual(count.trainable, 2 * 2 * 2 * 3 * 4)       // layers × (k, v) × kv heads × tokens × head dim
        XCTAssertEqual(model.prefixKeyValues?.count, 2)
        XCTAssertEqual(model.prefixKeyValues?[0].key.shape, [2, 3, 4])
        let prefixed = try S.logits(model)
        XCTAssertGreaterThan(maxDifference(prefixed, base), 1e-3)

        let export = try prefix.export()
        let flat = try XCTUnwrap(export.tensors["prompt_embeddings"])
        XCTAssertEqual(flat.shape, [3, 2 * 2 * 2 * 4])
        // Row t viewed as [layers·2, kv heads, head dim]: layer 1's value, head 1, token 2, dim 3.
        let v = model.prefixKeyValues![1].value
        XCTAssertEqual(flat[2, ((2 * 1 + 1) * 2 + 1) * 4 + 3], v[1, 2, 3])
        XCTAssertEqual(export.config["num_attention_heads"], .number(2))
        XCTAssertEqual(export.config["token_dim"], .number(8))

        let dir = try makeTemporaryFolder("peft")
        try PEFTAdapterFiles.write(export, to: dir)
        let fresh = try S.model(seed: 4)
        _ = try PEFTAdapterLoader.load(from: dir, into: fresh)
        XCTAssertEqual(try S.logits(fresh), prefixed)

        var rng = PhiloxRNG(seed: 8)
        let c = Tensor.randn([2, 5, 61], rng: &rng)
        try (model.forward(S.ids) * c).sum().backward()
        let loss = { try withNoGrad { try (model.forward(S.ids) * c).sum().item } }
        let params = prefix.trainableGroups()[0].parameters
        try S.checkGradient(of: params[0].tensor, indices: [0, 13], eps: 2e-2, tolerance: 3e-2, loss: loss)
        try S.checkGradient(of: params[3].tensor, indices: [2, 20], eps: 2e-2, tolerance: 3e-2, loss: loss)
    }
}
