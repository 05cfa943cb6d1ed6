import Foundation
@testable import TemperCore
import XCTest

/// Doubles for the trainer tests: the plugins (sft, adamw) live in the app package, so these tests
/// use small stand-ins with the same contracts.
enum TrainingFixtures {
    /// A fresh temporary folder.
    static func tempDir(_ name: String = #function) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("temper-train-\(name.filter(\.isLetter))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes JSONL lines to `dir/name`.
    static func write(_ lines: [String], to dir: URL, name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    static let tokenizer = try! CharacterChatTokenizer.make()

    /// A tiny Llama over the character tokenizer.
    static func model(seed: UInt64 = 1) throws -> LlamaModel {
        try LlamaModel(config: ModelConfig(vocabSize: tokenizer.vocabularySize, hiddenSize: 32, intermediateSize: 64,
                                           numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2),
                       seed: seed, initStd: 0.1)
    }

    /// Conversations "what is a+b?" → "c" for small a, b.
    static func additionChats(count: Int, offset: Int = 0) -> [String] {
        (0..<count).map { i in
            let a = (i + offset) % 7, b = (i * 3 + offset) % 5
            return #"{"messages": [{"role": "user", "content": "\#(a)+\#(b)="}, {"role": "assistant", "content": "\#(a + b)"}]}"#
        }
    }

    /// Every parameter of `model` trainable, in one group.
    static func fullGroups(_ model: LlamaModel) -> [ParameterGroup] {
        let params = model.namedParameters
        for p in params { p.tensor.requiresGrad = true }
        return [ParameterGroup(parameters: params)]
    }

    static func dataset(_ path: String, maxLength: Int = 64, packing: Bool = false) throws -> TokenizedDataset {
        try TokenizedDataset.load(path: path, encoder: ExampleEncoder(tokenizer: tokenizer, options: EncodingOptions(assistantOnlyLoss: true, maxLength: maxLength)),
                                  packing: packing)
    }
}

/// Mean NLL of the next token where the loss mask is set (the `sft` plugin's contract).
final class TestNLL: Objective {
    static let name = "test-nll"
    static let summary = "test double"
    static let parameters: [ParameterSpec] = []
    var inputKind: ObjectiveInputKind { .batches }
    /// Multiplies the loss (tests make it NaN).
    var scale: Float = 1
    /// Multiplies the loss at a given optimizer step instead of `scale`, when set.
    var scaleAtStep: ((Int) -> Float)?
    /// Cuts the loss off from the weights (value kept, gradient exactly 0), as a collapsed model.
    var deadGradient = false
    /// Rows of every micro-batch seen with gradients on (the training passes).
    var trainedRows = 0
    init(config: ComponentConfig) throws {}
    init() {}

    func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .batch(let batch) = input else { fatalError() }
        let ids = batch.inputIDs, b = ids.shape[0], t = ids.shape[1]
        let idv = ids.int32Values, mask = batch.lossMask.scalars
        var targets = [Int32](repeating: -100, count: b * t)
        for r in 0..<b { for c in 0..<(t - 1) where mask[r * t + c + 1] != 0 { targets[r * t + c] = idv[r * t + c + 1] } }
        let logits = try context.policy.logits(inputIDs: ids, attentionMask: batch.attentionMask)
        let loss = Tensor.crossEntropy(logits: logits, targets: Tensor(shape: [b, t], int32: targets))
        if GradMode.isEnabled { trainedRows += b }
        let factor = scaleAtStep?(context.step) ?? scale
        if deadGradient { return ObjectiveOutput(loss: loss.detached() + loss * 0) }
        return ObjectiveOutput(loss: factor == 1 ? loss : loss * factor)
    }
}

/// SGD with heavy-ball momentum and saved velocity: enough state to test checkpoints.
final class TestMomentumSGD: Optimizer {
    static let name = "test-sgd"
    static let summary = "test double"
    static let parameters: [ParameterSpec] = []
    var learningRate: Float
    var velocity: [String: [Float]] = [:]
    init(config: ComponentConfig) throws { learningRate = 0.1 }
    init(lr: Float) { learningRate = lr }

    func step(_ groups: [ParameterGroup]) throws {
        for g in groups {
            for p in g.parameters {
                guard let grad = p.tensor.grad?.scalars else { continue }
                var v = velocity[p.name] ?? [Float](repeating: 0, count: grad.count)
                let ptr = p.tensor.floatPointer
                for i in 0..<grad.count {
                    v[i] = 0.9 * v[i] + grad[i]
                    ptr[i] -= learningRate * g.learningRateScale * v[i]
                }
                velocity[p.name] = v
            }
        }
    }

    func state() -> OptimizerState {
        var s = OptimizerState()
        for (k, v) in velocity { s.tensors["velocity.\(k)"] = Tensor(shape: [v.count], scalars: v) }
        s.scalars["count"] = Double(velocity.count)
        return s
    }

    func load(state: OptimizerState) throws {
        velocity = [:]
        for (k, t) in state.tensors { velocity[String(k.dropFirst("velocity.".count))] = t.scalars }
    }
}
