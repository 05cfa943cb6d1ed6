import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// rloo, reinforce-plus-plus, remax, ppo and rft through the host's on-policy loop on a tiny model:
/// they raise the training reward, and a PPO run resumed from the middle of a generation batch
/// (value head and KL controller included) ends bit-identical to an uninterrupted one.
final class RLObjectivesTrainingTests: XCTestCase {
    private var tokenizer: Tokenizer!

    override func setUpWithError() throws {
        TestPlugins.loadBuilt(requiring: ["rloo", "reinforce-plus-plus", "remax", "ppo", "rft", "format", "adamw"])
        tokenizer = try CharacterChatTokenizer.make()
    }

    /// Addition prompts; the reward is 1 when the completion holds a 7.
    private func session(_ dir: URL, _ fields: [(String, String)]) throws -> TrainingSession {
        let url = dir.appendingPathComponent("prompts.jsonl")
        let lines = (0..<16).map { i in #"{"prompt": [{"role": "user", "content": "\#(i)+\#(i + 3)="}], "answer": "\#(2 * i + 3)"}"# }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        var recipe = TrainingRecipe()
        let base: [(String, String)] = [
            ("train_file", url.path), ("output_dir", dir.appendingPathComponent("run").path),
            ("optimizer", "adamw"), ("learning_rate", "0.02"), ("lr_scheduler_type", "constant"), ("max_steps", "40"),
            ("per_device_train_batch_size", "8"), ("num_generations", "4"), ("max_completion_length", "6"),
            ("logging_steps", "1"), ("save_steps", "1000"), ("rewards", "format:pattern=7,match=search"), ("seed", "5"),
        ]
        for (k, v) in base + fields { try recipe.set(k, .text(v)) }
        let model = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 11)
        return try TrainingSession(recipe: recipe, pretrained: PretrainedModel(model: model, tokenizer: tokenizer, source: dir))
    }

    /// The mean reward of the first and last `window` steps of a run's metrics.jsonl.
    private func rewards(_ dir: URL, window: Int = 5) throws -> (first: Double, last: Double, entries: [[String: Double]]) {
        let lines = try String(contentsOf: dir.appendingPathComponent("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .filter { !$0.contains("general_perplexity") }   // the forgetting probe's entries, not steps
        let entries = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Double]) }
        let r = entries.compactMap { $0["reward"] }
        XCTAssertEqual(r.count, entries.count)
        return (r.prefix(window).reduce(0, +) / Double(window), r.suffix(window).reduce(0, +) / Double(window), entries)
    }

    func testEachObjectiveRaisesTheTrainingReward() throws {
        for spec in ["rloo", "reinforce-plus-plus", "remax", "ppo", "rft"] {
            let dir = try makeTemporaryFolder("learn-\(spec)")
            try session(dir, [("objective", spec)]).trainer.train()
            let (first, last, entries) = try rewards(dir)
            print(String(format: "%@: training reward %.3f (steps 1-5) -> %.3f (steps 36-40)", spec, first, last))
            XCTAssertGreaterThan(last, first + 0.3, "\(spec): reward \(first) → \(last)")
            XCTAssertEqual(entries.count, 40)
        }
    }

    private func weights(_ s: TrainingSession) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for g in s.trainer.groups { for p in g.parameters { out[p.name] = p.tensor.scalars } }
        return out
    }

    func testAResumedPPORunEndsBitIdenticalWithItsValueHeadAndKLController() throws {
        // Generation batches of 16 completions read as 2 micro-batches, twice (num_iterations 2,
        // TRL's num_ppo_epochs): 4 steps per round, so step 2 is in the middle of one. A target KL
        // of 0.01 over a horizon of 10 completions makes the controller move β at every round.
        let fields = [("objective", "ppo:adap_kl_ctrl=true,target=0.01,horizon=10"), ("steps_per_generation", "2"), ("num_iterations", "2"),
                      ("max_steps", "6"), ("save_steps", "2")]
        let whole = try session(try makeTemporaryFolder("ppo-whole"), fields)
        try whole.trainer.train()
        let dir = try makeTemporaryFolder("ppo-resumed")
        try session(dir, fields).trainer.train(stopAfter: 2)
        let second = try session(dir, fields)
        try second.trainer.train(resumeFrom: dir.appendingPathComponent("run/checkpoint-2"))
        let a = weights(whole), b = weights(second)
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for (name, values) in a { XCTAssertEqual(values.map(\.bitPattern), b[name]!.map(\.bitPattern), name) }
        for name in ["v_head.weight", "v_head.bias"] { XCTAssertNotNil(a[name], name) }
        XCTAssertNil(a["kl_ctl.value"], "β is objective state, not a trained parameter")
        // β: the controller moved it, the checkpoint carried it (trainer_state.json), and the
        // resumed run ends with the uninterrupted run's value, bit for bit.
        let betaWhole = try XCTUnwrap(whole.trainer.objective.checkpointState()["kl_ctl.value"])
        XCTAssertNotEqual(betaWhole, Double(Float(0.05)), "the controller moved β")
        XCTAssertEqual(try XCTUnwrap(second.trainer.objective.checkpointState()["kl_ctl.value"]).bitPattern, betaWhole.bitPattern)
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("run/checkpoint-2/trainer_state.json"))) as? [String: Any]
        let savedBeta = try XCTUnwrap((saved?["objective_state"] as? [String: Double])?["kl_ctl.value"])
        XCTAssertNotEqual(savedBeta, Double(Float(0.05)), "β had moved by step 2")
        XCTAssertNotEqual(savedBeta, betaWhole, "and moved again after it")
        let fixed = try session(try makeTemporaryFolder("ppo-fixed"), [("objective", "ppo:adap_kl_ctrl=false"), ("max_steps", "2")])
        try fixed.trainer.train()
        XCTAssertEqual(fixed.trainer.objective.checkpointState(), ["kl_ctl.value": Double(Float(0.05))])
        let entry = try XCTUnwrap(try rewards(dir, window: 1).entries.last)
        for key in ["loss/policy_avg", "loss/value_avg", "policy/clipfrac_avg", "val/clipfrac_avg", "val/explained_variance",
                    "objective/kl", "objective/kl_coef", "policy/entropy_avg", "reward"] {
            XCTAssertNotNil(entry[key], "metrics.jsonl lacks \(key): \(entry.keys.sorted())")
        }
    }
}
