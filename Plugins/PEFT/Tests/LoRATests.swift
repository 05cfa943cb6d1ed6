import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// A single linear layer as an adaptable model, for exact gradient checks.
final class OneLayerModel: AdaptableModel {
    let layer: Linear
    init(outFeatures: Int, inFeatures: Int, bias: Bool = true, seed: UInt64 = 11) {
        var rng = PhiloxRNG(seed: seed)
        layer = Linear(name: "block.proj", weight: Tensor.randn([outFeatures, inFeatures], std: 0.5, rng: &rng),
                       bias: bias ? Tensor.randn([outFeatures], std: 0.5, rng: &rng) : nil)
    }
    var linearLayers: [Linear] { [layer] }
    var namedParameters: [NamedParameter] {
        [NamedParameter(name: "block.proj.weight", tensor: layer.weight)] + (layer.bias.map { [NamedParameter(name: "block.proj.bias", tensor: $0)] } ?? [])
    }
}

final class LoRATests: XCTestCase {
    typealias S = PEFTTestSupport

    func testForwardAtInitEqualsBaseForEachInit() throws {
        for spec in ["lora:r=4,target_modules=all-linear", "lora:r=2,init_lora_weights=gaussian,target_modules=[q_proj,v_proj]"] {
            let model = try S.model()
            let base = try S.logits(model)
            _ = try S.method(spec).apply(to: model)
            XCTAssertEqual(try S.logits(model), base, spec)   // B = 0: the update adds exact zeros
        }
    }

    func testCountsAndTargetSelection() throws {
        let model = try S.model()
        let total = model.parameterCount
        let count = try S.method("lora:r=4,target_modules=all-linear").apply(to: model)
        // Per layer: q 16→16, k 16→8, v 16→8, o 16→16, gate 16→24, up 16→24, down 24→16; each adds r·(in + out).
        let perLayer = [16 + 16, 16 + 8, 16 + 8, 16 + 16, 16 + 24, 16 + 24, 24 + 16].reduce(0, +) * 4
        XCTAssertEqual(count, ParameterCount(trainable: 2 * perLayer, total: total + 2 * perLayer))
        XCTAssertTrue(model.namedParameters.allSatisfy { !$0.tensor.requiresGrad })

        let m2 = try S.model()
        let lora = try S.method("lora:r=2,target_modules=[self_attn.q_proj,v_proj]")
        _ = try lora.apply(to: m2)
        XCTAssertEqual(m2.linearLayers.filter { $0.adapter != nil }.map(\.name),
                       ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                        "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"])
        XCTAssertEqual(lora.trainableGroups().flatMap(\.parameters).map(\.name).prefix(2),
                       ["model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj.lora_B.weight"])

        let m3 = try S.model()
        _ = try S.method(#"lora:r=2,target_modules=model\.layers\.1\..*_proj"#).apply(to: m3)
        XCTAssertEqual(m3.linearLayers.filter { $0.adapter != nil }.count, 7)
        XCTAssertTrue(m3.linearLayers.filter { $0.adapter != nil }.allSatisfy { $0.name.hasPrefix("model.layers.1.") })

        XCTAssertThrowsError(try S.method("lora:target_modules=qkv").apply(to: try S.model())) { e in
            XCTAssertTrue("\(e)".contains("matches no linear layer") && "\(e)".contains("q_proj"), "\(e)")
        }
        XCTAssertThrowsError(try S.method("lora:r=17,target_modules=k_proj").apply(to: try S.model())) { e in
            XCTAssertTrue("\(e)".contains("r = 17 exceeds"), "\(e)")
        }
    }

    func testKaimingAndGaussianInitialisationRanges() throws {
        let model = OneLayerModel(outFeatures: 12, inFeatures: 64)
        let lora = try S.method("lora:r=8,target_modules=all-linear")
        _ = try lora.apply(to: model)
        let params = lora.trainableGroups()[0].parameters
        let a = params[0].tensor.scalars, b = params[1].tensor.scalars
        XCTAssertEqual(params[0].tensor.shape, [8, 64])
        XCTAssertLessThanOrEqual(a.map(abs).max()!, 1 / 8)            // U(−1/√in, 1/√in)
        XCTAssertGreaterThan(a.map(abs).max()!, 0.1)
        XCTAssertEqual(b, [Float](repeating: 0, count: 12 * 8))

        let g = OneLayerModel(outFeatures: 12, inFeatures: 64)
        let gl = try S.method("lora:r=8,init_lora_weights=gaussian,target_modules=all-linear")
        _ = try gl.apply(to: g)
        let ga = gl.trainableGroups()[0].parameters[0].tensor.scalars
        let std = (ga.reduce(0) { $0 + $1 * $1 } / Float(ga.count)).squareRoot()
        XCTAssertEqual(std, 1 / 8, accuracy: 0.015)                     // PEFT: N(0, (1/r)²)
    }

    func testScalingRSLoRAAndLoRAPlusGroups() throws {
        for (spec, scaling) in [("lora:r=4,lora_alpha=8", Float(2)), ("lora:r=4,lora_alpha=8,use_rslora=true", Float(4))] {
            let model = OneLayerModel(outFeatures: 6, inFeatures: 5)
            let lora = try S.method(spec + ",target_modules=proj")
            _ = try lora.apply(to: model)
            let p = lora.trainableGroups()[0].parameters
            S.randomize(p[1].tensor, std: 0.3, seed: 1)
            let x = Tensor(shape: [1, 5], scalars: [0.3, -1, 2, 0.5, 0.1])
            let y = withNoGrad { model.layer(x) }.scalars
            let base = withNoGrad { model.layer.baseForward(x) }.scalars
            let ba = withNoGrad { x.linear(p[0].tensor).linear(p[1].tensor) }.scalars
            for i in 0..<6 { XCTAssertEqual(y[i], base[i] + scaling * ba[i], accuracy: 1e-5, spec) }
        }
        let lora = try S.method("lora:r=2,target_modules=all-linear,loraplus_lr_ratio=16")
        _ = try lora.apply(to: try S.model())
        let groups = lora.trainableGroups()
        XCTAssertEqual(groups.map(\.learningRateScale), [1, 16])
        XCTAssertTrue(groups[0].parameters.allSatisfy { $0.name.hasSuffix("lora_A.weight") })
        XCTAssertTrue(groups[1].parameters.allSatisfy { $0.name.hasSuffix("lora_B.weight") })
        XCTAssertEqual(groups[1].parameters.count, 14)
    }

    func testGradientsMatchFiniteDifferencesOnALayer() throws {
        let model = OneLayerModel(outFeatures: 5, inFeatures: 7)
        let lora = try S.method("lora:r=3,lora_alpha=6,target_modules=proj")
        _ = try lora.apply(to: model)
        let (a, b) = (lora.trainableGroups()[0].parameters[0].tensor, lora.trainableGroups()[0].parameters[1].tensor)
        S.randomize(b, std: 0.4, seed: 5)
        var rng = PhiloxRNG(seed: 9)
        let x = Tensor.randn([4, 7], rng: &rng)
        let c = Tensor.randn([4, 5], rng: &rng)
        (model.layer(x) * c).sum().backward()
        let loss = { withNoGrad { (model.layer(x) * c).sum().item } }
        S.checkGradient(of: a, indices: Array(0..<21), eps: 1e-2, tolerance: 1e-3, loss: loss)
        S.checkGradient(of: b, indices: Array(0..<15), eps: 1e-2, tolerance: 1e-3, loss: loss)
        XCTAssertNil(model.layer.weight.grad)
    }

    func testGradientsMatchFiniteDifferencesThroughTheModel() throws {
        let model = try S.model()
        let lora = try S.method("lora:r=2,target_modules=[q_proj,down_proj]")
        _ = try lora.apply(to: model)
        let params = lora.trainableGroups()[0].parameters
        for (i, p) in params.enumerated() where p.name.hasSuffix("lora_B.weight") { S.randomize(p.tensor, std: 0.5, seed: UInt64(i)) }
        var rng = PhiloxRNG(seed: 4)
        let c = Tensor.randn([2, 5, 61], rng: &rng)
        try (model.forward(S.ids) * c).sum().backward()
        let loss = { try withNoGrad { try (model.forward(S.ids) * c).sum().item } }
        for p in params.prefix(4) { try S.checkGradient(of: p.tensor, indices: [0, 3, 7], eps: 3e-3, tolerance: 2e-2, loss: loss) }
    }

    func testMergeGivesTheAdaptedOutputsAndUnmergeRestoresExactly() throws {
        let model = try S.model()
        let base = try S.logits(model)
        let originals = model.linearLayers.map(\.weight)
        let lora = try S.method("lora:r=4,lora_alpha=16,target_modules=all-linear")
        _ = try lora.apply(to: model)
        for (i, p) in lora.trainableGroups()[0].parameters.enumerated() where p.name.hasSuffix("lora_B.weight") {
            S.randomize(p.tensor, std: 0.2, seed: UInt64(i))
        }
        let adapted = try S.logits(model)
        XCTAssertGreaterThan(maxDifference(adapted, base), 1e-2)
        try lora.merge(into: model)
        XCTAssertTrue(model.linearLayers.allSatisfy { $0.adapter == nil })
        XCTAssertLessThan(maxDifference(try S.logits(model), adapted), 2e-5)
        XCTAssertThrowsError(try lora.merge(into: model)) { XCTAssertTrue("\($0)".contains("already merged")) }
        try lora.unmerge(from: model)
        XCTAssertTrue(zip(model.linearLayers.map(\.weight), originals).allSatisfy { $0 === $1 })
        XCTAssertEqual(try S.logits(model), adapted)
    }

    /// The adapter PEFT itself wrote for the tiny fixture model reproduces PEFT's logits.
    func testPEFTWrittenAdapterReproducesPEFTLogits() throws {
        S.loadPlugins()
        let model = try LlamaModel.load(from: S.tinyDir)
        let method = try PEFTAdapterLoader.load(from: S.tinyDir.appendingPathComponent("peft-lora"), into: model)
        XCTAssertTrue(method is any LoadablePEFTMethod)
        XCTAssertEqual(model.linearLayers.filter { $0.adapter != nil }.count, 14)
        struct Case: Decodable { let input_ids: [Int32]; let logits_last: [Float]; let logits_all_sum: Double; let argmax: [Int] }
        struct Root: Decodable { let cases: [Case] }
        let cases = try JSONDecoder().decode(Root.self, from: Data(contentsOf: S.tinyDir.appendingPathComponent("peft-lora/reference_logits.json"))).cases
        XCTAssertEqual(cases.count, 2)
        let v = model.config.vocabSize
        for c in cases {
            let t = c.input_ids.count
            let all = try withNoGrad { try model.forward(Tensor(shape: [1, t], int32: c.input_ids)) }.scalars
            for (a, b) in zip(all[(t - 1) * v ..< (t - 1) * v + 64], c.logits_last) { XCTAssertEqual(a, b, accuracy: 2e-5) }
            XCTAssertEqual(all.reduce(0.0) { $0 + Double($1) }, c.logits_all_sum, accuracy: 2e-3)
            let argmax = (0..<t).map { i in (0..<v).max { all[i * v + $0] < all[i * v + $1] }! }
            XCTAssertEqual(argmax, c.argmax)
        }
    }

    func testExportWritesPEFTKeysAndReloadsIdentically() throws {
        let model = try S.model(seed: 8)
        let lora = try S.method("lora:r=2,lora_alpha=4,target_modules=[q_proj,up_proj]")
        _ = try lora.apply(to: model)
        for (i, p) in lora.trainableGroups()[0].parameters.enumerated() { S.randomize(p.tensor, std: 0.3, seed: UInt64(i + 50)) }
        let adapted = try S.logits(model)
        let dir = try makeTemporaryFolder("peft")
        try PEFTAdapterFiles.write(try lora.export(), to: dir)

        let file = try SafetensorsFile(contentsOf: dir.appendingPathComponent("adapter_model.safetensors"))
        XCTAssertEqual(file.tensorNames.sorted().first, "base_model.model.model.layers.0.mlp.up_proj.lora_A.weight")
        XCTAssertEqual(file.tensorNames.count, 8)
        XCTAssertEqual(file.tensorInfo(named: "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight")?.shape, [16, 2])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        XCTAssertEqual(json["peft_type"] as? String, "LORA")
        XCTAssertEqual(json["r"] as? Int, 2)
        XCTAssertEqual(json["target_modules"] as? [String], ["q_proj", "up_proj"])
        XCTAssertEqual(json["use_dora"] as? Bool, false)

        let fresh = try S.model(seed: 8)
        _ = try PEFTAdapterLoader.load(from: dir, into: fresh)
        XCTAssertEqual(try S.logits(fresh), adapted)
    }

    func testLoadingErrorsNameTheProblem() throws {
        let dir = try makeTemporaryFolder("peft")
        XCTAssertThrowsError(try PEFTAdapterLoader.load(from: dir, into: try S.model())) { XCTAssertTrue("\($0)".contains("no adapter_config.json"), "\($0)") }
        // The fixture adapter belongs to a wider model: shapes differ.
        XCTAssertThrowsError(try PEFTAdapterLoader.load(from: S.tinyDir.appendingPathComponent("peft-lora"), into: try S.model())) { e in
            XCTAssertTrue("\(e)".contains("has shape [4, 32], expected [4, 16]"), "\(e)")
        }
        var config = try PEFTAdapterFiles.read(from: S.tinyDir.appendingPathComponent("peft-lora")).config
        config["rank_pattern"] = .object(["q_proj": .number(8)])
        XCTAssertThrowsError(try PEFTAdapterConfig.spec(for: config, source: "x.json")) { XCTAssertTrue("\($0)".contains("'rank_pattern'"), "\($0)") }
        config["peft_type"] = .string("LOHA")
        XCTAssertThrowsError(try PEFTAdapterConfig.spec(for: config, source: "x.json")) { e in
            // The types come from the loaded plugins' declarations (this plugin's, and any other in the build folder).
            XCTAssertTrue("\(e)".hasPrefix("x.json: peft_type 'LOHA' is not read by any loaded PEFT plugin (they read "), "\(e)")
            for type in ["IA3", "LORA", "PREFIX_TUNING", "PROMPT_TUNING"] { XCTAssertTrue("\(e)".contains(type), "\(e)") }
        }
    }

    /// A weight with a known SVD (σ at permuted positions): PiSSA must put exactly the two largest
    /// into s·B·A and leave the rest as the frozen residual.
    func testPiSSASplitsTheTopSingularValuesExactly() throws {
        let model = OneLayerModel(outFeatures: 6, inFeatures: 5, bias: false)
        let sigma: [Float] = [1, 5, 3, 0.5, 2], rows = [4, 0, 2, 5, 1]
        var w = [Float](repeating: 0, count: 30)
        for k in 0..<5 { w[rows[k] * 5 + k] = sigma[k] }
        model.layer.weight = Tensor(shape: [6, 5], scalars: w)
        let lora = try S.method("lora:r=2,lora_alpha=4,init_lora_weights=pissa,target_modules=proj")
        _ = try lora.apply(to: model)
        let p = lora.trainableGroups()[0].parameters
        let a = p[0].tensor.scalars, b = p[1].tensor.scalars
        var update = [Float](repeating: 0, count: 30)
        for e in 0..<30 {
            let i = e / 5, j = e % 5
            update[e] = 2 * (b[i * 2] * a[j] + b[i * 2 + 1] * a[5 + j])
        }
        var expected = [Float](repeating: 0, count: 30)
        expected[0 * 5 + 1] = 5
        expected[2 * 5 + 2] = 3
        XCTAssertLessThan(maxDifference(update, expected), 1e-5)
        var residual = w
        residual[0 * 5 + 1] = 0
        residual[2 * 5 + 2] = 0
        XCTAssertLessThan(maxDifference(model.layer.weight.scalars, residual), 1e-5)
    }

    func testPiSSAStartsAtTheBaseModelAndExportsRelativeToTheOriginalWeights() throws {
        let model = try S.model(seed: 21)
        let base = try S.logits(model)
        let originals = model.linearLayers.map { $0.weight.scalars }
        let lora = try S.method("lora:r=4,lora_alpha=8,init_lora_weights=pissa,target_modules=all-linear")
        _ = try lora.apply(to: model)
        XCTAssertLessThan(maxDifference(try S.logits(model), base), 1e-5)
        // A's rows are scaled right singular vectors: orthogonal, longest first.
        let q = model.linearLayers[0]
        let params = lora.trainableGroups()[0].parameters
        let a = params[0].tensor.scalars, b = params[1].tensor.scalars
        for i in 0..<4 { for j in 0..<4 where i != j {
            XCTAssertEqual((0..<16).reduce(Float(0)) { $0 + a[i * 16 + $1] * a[j * 16 + $1] }, 0, accuracy: 1e-5)
        } }
        let rowNorms = (0..<4).map { i in (0..<16).reduce(Float(0)) { $0 + a[i * 16 + $1] * a[i * 16 + $1] } }
        XCTAssertEqual(rowNorms, rowNorms.sorted(by: >))
        // Residual + s·B·A = W.
        var merged = q.weight.scalars
        for e in 0..<256 {
            for k in 0..<4 { merged[e] += 2 * b[(e / 16) * 4 + k] * a[k * 16 + e % 16] }
        }
        XCTAssertLessThan(maxDifference(merged, originals[0]), 1e-5)

        for (i, p) in params.enumerated() { S.randomize(p.tensor, std: 0.3, seed: UInt64(i)) }
        let trained = try S.logits(model)
        let export = try lora.export()
        XCTAssertEqual(export.config["r"], .number(8))
        XCTAssertEqual(export.config["lora_alpha"], .number(16))
        let fresh = try S.model(seed: 21)
        let plain = try S.method("lora:r=8,lora_alpha=16,target_modules=all-linear") as! any LoadablePEFTMethod
        _ = try plain.apply(to: fresh)
        try plain.load(export)
        XCTAssertLessThan(maxDifference(try S.logits(fresh), trained), 2e-5)
    }
}
