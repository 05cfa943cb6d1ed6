import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// While gradients are off (decode steps, log-prob passes), LoRA's down projections `A` join the
/// frozen products of their layer group in one shared-input pass (`lowRankUpdate`); the logits must
/// stay those of every layer's own forward, and adapters that are not a plain low-rank sum must
/// keep their own forward.
final class LoRASharedPassTests: XCTestCase {
    typealias S = PEFTTestSupport

    /// The tiny model adapted by `spec`, LoRA's B moved off zero so the adapters change the output.
    private func adapted(_ spec: String, bias: Bool = false) throws -> LlamaModel {
        let model = try S.model(bias: bias)
        let method = try S.method(spec)
        _ = try method.apply(to: model)
        for (i, q) in method.trainableGroups()[0].parameters.enumerated() where q.name.hasSuffix("lora_B.weight") {
            S.randomize(q.tensor, std: 0.5, seed: UInt64(i))
        }
        return model
    }

    func testLowRankUpdateIsOfferedOnlyWhenTheForwardIsAPlainLowRankSum() throws {
        let lora = try adapted("lora:r=2,lora_alpha=3,lora_dropout=0.1,target_modules=all-linear")
        let q = lora.layers[0].selfAttn.qProj
        let params = Dictionary(uniqueKeysWithValues: (q.adapter?.parameters ?? []).map { ($0.name, $0.tensor) })
        let update = try XCTUnwrap(withNoGrad { q.adapter?.lowRankUpdate }, "plain LoRA offers its factors with gradients off")
        XCTAssertTrue(update.a === params["\(q.name).lora_A.weight"], "A is the trained tensor itself, not a copy")
        XCTAssertTrue(update.b === params["\(q.name).lora_B.weight"])
        XCTAssertEqual(update.a.shape, [2, 16])
        XCTAssertEqual(update.b.shape, [16, 2])
        XCTAssertEqual(update.scaling, 1.5, "alpha / r")
        XCTAssertNil(q.adapter?.lowRankUpdate, "dropout is active in training mode with gradients on")
        XCTAssertNotNil(withEvalMode { q.adapter?.lowRankUpdate }, "evaluation mode drops nothing")

        let rs = try adapted("lora:r=4,lora_alpha=3,use_rslora=true,target_modules=all-linear")
        XCTAssertEqual(try XCTUnwrap(rs.layers[1].mlp.downProj.adapter?.lowRankUpdate).scaling, 1.5, "alpha / √r with rsLoRA")
        let dora = try adapted("dora:r=2,target_modules=all-linear")
        XCTAssertNil(withNoGrad { dora.layers[0].selfAttn.qProj.adapter?.lowRankUpdate }, "DoRA's magnitude keeps its own forward")
        let ia3 = try adapted("ia3")
        let scaled = try XCTUnwrap(ia3.layers.flatMap { [$0.selfAttn.kProj, $0.selfAttn.vProj, $0.mlp.downProj] }.first { $0.adapter != nil })
        XCTAssertNil(withNoGrad { scaled.adapter?.lowRankUpdate }, "(IA)³ is not a low-rank sum")
    }

    /// Logits with gradients off (the shared pass; 10 rows, a decode-sized batch) against every
    /// layer's own forward (gradients on, evaluation mode so that no dropout applies), and against
    /// the adapters switched off, which must differ.
    private func assertSharedPassIsTheLayersOwnForward(_ spec: String, bias: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try adapted(spec, bias: bias)
        let shared = try withNoGrad { try model.forward(S.ids) }.scalars
        let own = try withEvalMode { try model.forward(S.ids) }.scalars
        let base = try model.withAdaptersDisabled { try withNoGrad { try model.forward(S.ids) } }.scalars
        XCTAssertEqual(shared.count, 2 * 5 * 61, file: file, line: line)
        // The same products (the shared pass gives each output the operations a separate product
        // gives it) added in the same order: equal bit for bit.
        for (i, (a, b)) in zip(shared, own).enumerated() where a != b {
            return XCTFail("\(spec): logit \(i) is \(a) in the shared pass, \(b) through each layer's forward", file: file, line: line)
        }
        let moved = zip(shared, base).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(moved, 1e-2, "\(spec): the adapters must change the logits for the comparison to mean anything", file: file, line: line)
    }

    func testSharedPassEqualsEachLayersOwnForward() throws {
        try assertSharedPassIsTheLayersOwnForward("lora:r=2,lora_alpha=3,target_modules=all-linear")
        // Groups mixing adapted and plain layers: q and v adapted, k not; up adapted, gate not.
        try assertSharedPassIsTheLayersOwnForward("lora:r=3,target_modules=[q_proj,v_proj,up_proj]")
        // Dropout is configured but inactive with gradients off.
        try assertSharedPassIsTheLayersOwnForward("lora:r=2,lora_dropout=0.5,target_modules=all-linear")
        // q/k/v carry biases: that group runs each layer's forward, the others share a pass.
        try assertSharedPassIsTheLayersOwnForward("lora:r=2,target_modules=all-linear", bias: true)
        try assertSharedPassIsTheLayersOwnForward("dora:r=2,target_modules=all-linear")
    }

    /// Greedy decoding with unmerged LoRA (KV cache, the shared pass at every step) picks the tokens
    /// that full forwards over the growing sequences, each layer through its own forward, pick.
    func testGreedyDecodeWithLoRAMatchesFullForwards() throws {
        let model = try adapted("lora:r=2,lora_alpha=4,target_modules=all-linear")
        let vocab = (0..<61).map { ByteLevelAlphabet.encode([UInt8($0)]) }
        let tokenizer = try Tokenizer(TokenizerDefinition(tokens: vocab, merges: [], addedTokens: [],
                                                          preTokenizer: .byteLevel(addPrefixSpace: false, useRegex: false)))
        let prompts: [[Int32]] = [[3, 14, 15, 9], [26, 5, 35]]
        let decoded = try Generator(model: model, tokenizer: tokenizer)
            .generate(prompts: prompts, options: GenerationOptions(maxNewTokens: 8, temperature: 0)).map { $0[0].tokenIDs }
        for (prompt, tokens) in zip(prompts, decoded) {
            var ids = prompt
            for _ in 0..<8 {
                let logits = try withEvalMode { try model.forward(Tensor(shape: [1, ids.count], int32: ids)) }.scalars.suffix(61)
                let best = try XCTUnwrap(logits.indices.max { logits[$0] < logits[$1] })
                ids.append(Int32(best - logits.startIndex))
            }
            XCTAssertEqual(tokens, Array(ids.dropFirst(prompt.count)), "prompt \(prompt)")
        }
    }
}
