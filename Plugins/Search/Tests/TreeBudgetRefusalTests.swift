import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// Budgets the tree strategies and compute-optimal cannot meet: refused up front with a message
/// naming the numbers, before anything is generated.
final class TreeBudgetRefusalTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["mcts", "tree-of-thoughts", "dvts", "lookahead", "compute-optimal"]) }

    /// The error `spec` stops with on the scripted tree under `budget`, and the tokens it generated.
    private func refusal(_ spec: String, _ budget: SearchBudget, verifier: (any RewardScoring)? = nil) -> (message: String?, generated: Int) {
        let model = StepScript.model()
        let r = SearchRequest(model: model, prompts: [StepScript.prompt], verifier: verifier, stepScorer: TableStepScorer([:]), budget: budget)
        do {
            _ = try ComponentRegistry.shared.search(spec).search(r)
            return (nil, model.usage.tokensGenerated)
        } catch {
            return ("\(error)", model.usage.tokensGenerated)
        }
    }

    func testTreeStrategiesRefuseBudgetsTheyCannotMeet() {
        let cases: [(String, SearchBudget, String)] = [
            ("mcts", SearchBudget(maxGeneratedTokens: 2),
             "mcts: a budget of 2 generated tokens cannot pay for one expansion of 3 steps (at least 3 tokens)"),
            ("tree-of-thoughts", SearchBudget(maxGeneratedTokens: 2),
             "tree-of-thoughts: a budget of 2 generated tokens cannot pay for 3 proposals (at least 3 tokens)"),
            ("dvts", SearchBudget(samplesPerPrompt: 6),
             "dvts: a budget of 6 samples per step is not a multiple of expansions = 4 (N beams × M expansions); use 4 or set expansions"),
            ("lookahead", SearchBudget(maxGeneratedTokens: 15),
             "lookahead: a budget of 15 generated tokens cannot pay for one step of 4 beams × 4 expansions (at least 16 tokens)"),
        ]
        for (spec, budget, expected) in cases {
            let (message, generated) = refusal(spec, budget)
            XCTAssertEqual(message, expected, spec)
            XCTAssertEqual(generated, 0, "\(spec) generated before refusing")
        }
    }

    func testComputeOptimalRefusesATokenCapItCannotSplit() throws {
        let path = try makeTemporaryFolder("compute-optimal-budget").appendingPathComponent("table.json").path
        try #"{"format": "temper-compute-optimal/1", "probe_samples": 2, "bins": 1, "choices": [{"bin": 0, "budget": 1, "search": "greedy", "accuracy": 1, "tokens_per_answer": 6, "items": 1}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let (message, generated) = refusal("compute-optimal:table=\(path)", SearchBudget(samplesPerPrompt: 1, maxGeneratedTokens: 100),
                                           verifier: ScriptedReward { _ in 1 })
        XCTAssertEqual(message, "compute-optimal: cannot split a generated-token cap between its probes and the routed search; give it a sample budget only")
        XCTAssertEqual(generated, 0)
    }
}
