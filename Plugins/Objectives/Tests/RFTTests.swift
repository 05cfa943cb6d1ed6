import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `rft`, loaded from the built plugin: which completions a round keeps (threshold, at most k per
/// prompt, distinct ones) and the NLL over them.
final class RFTTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["rft"]) }

    // Two prompts: rows 0–2 and rows 3–4. Rows 0 and 1 sampled the same completion (tokens 1, 2).
    private let f = RolloutFixture(completionLengths: [2, 2, 2, 1, 2], ids: [0, 1, 2, 0,  1, 1, 2, 2,  0, 2, 1, 0,  1, 0, 0, 0,  1, 2, 2, 1])
    private let groups = [0, 0, 0, 1, 1]

    private func kept(_ spec: String, rewards: [Float]) throws -> [Float] {
        let (_, prepared) = try preparedLoss(try ComponentRegistry.shared.objective(spec), f.batch(groups: groups, rewards: rewards), model: f.model)
        return try XCTUnwrap(prepared.extra["kept"]).scalars
    }

    func testTheLossIsTheNLLOfTheKeptCompletions() throws {
        let rft = try ComponentRegistry.shared.objective("rft")
        let (out, prepared) = try preparedLoss(rft, f.batch(groups: groups, rewards: [1, 1, 0, 1, 0.5]), model: f.model)
        // Reward ≥ 1: rows 0, 1 and 3; row 1 repeats row 0's completion, so it is kept once.
        XCTAssertEqual(try XCTUnwrap(prepared.extra["kept"]).scalars, [1, 0, 0, 1, 0])
        XCTAssertEqual(prepared.completionMask.scalars, [0, 1, 1, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 1, 0, 0,  0, 0, 0, 0])
        XCTAssertEqual(Double(out.loss.item), -(f.logprob(0, 1) + f.logprob(0, 2) + f.logprob(3, 1)) / 3, accuracy: 1e-6)
        XCTAssertEqual(out.metrics["kept_share"], 0.4)
        let model = f.model
        assertGradientsMatch([f.logits]) { _ in try rft.loss(.rollouts(prepared), context: ObjectiveContext(policy: model)).loss }
    }

    func testThresholdAtMostKPerPromptAndDuplicates() throws {
        XCTAssertEqual(try kept("rft:deduplicate=false", rewards: [1, 1, 0, 1, 0.5]), [1, 1, 0, 1, 0])
        // Highest reward first within each prompt.
        XCTAssertEqual(try kept("rft:threshold=0.5,max_per_prompt=1,deduplicate=false", rewards: [0.5, 1, 0, 0.5, 1]), [0, 1, 0, 0, 1])
        // Equal rewards: in sampling order; the duplicate does not use up the budget of 2.
        XCTAssertEqual(try kept("rft:threshold=0,max_per_prompt=2", rewards: [1, 1, 1, 0, 0]), [1, 0, 1, 1, 1])
    }

    func testARoundWithNothingCorrectTrainsOnNothing() throws {
        let rft = try ComponentRegistry.shared.objective("rft")
        let (out, _) = try preparedLoss(rft, f.batch(groups: groups, rewards: [0, 0, 0, 0, 0]), model: f.model)
        XCTAssertEqual(out.loss.item, 0)
        XCTAssertEqual(out.metrics["kept_share"], 0)
        XCTAssertFalse(out.loss.requiresGrad, "nothing to back-propagate: the trainer skips the backward pass")
    }
}
