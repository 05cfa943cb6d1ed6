import TemperCore
import TemperTestSupport
import XCTest

/// Loads the built plugin the way `temper` does and searches with a scripted model.
final class __Name__Tests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["__component__"])
    }

    /// Scores a completion by how close its number is to the `target` column.
    struct Closeness: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] {
            try zip(batch.completions, batch.column("target", for: "closeness")).map { c, t in
                guard case .number(let target) = t, let v = Double(c) else { return nil }
                return Float(-abs(v - target))
            }
        }
    }

    func testReturnsCandidatesBestFirstWithUsage() throws {
        let search = try ComponentRegistry.shared.search("__component__:n=5")
        // The k-th sample of every prompt is "k" (one token per character).
        let model = ScriptedLanguageModel { _, k in String(k) }
        let result = try search.search(SearchRequest(model: model, prompts: ["a", "b"],
                                                     columns: ["target": [.number(3), .number(0)]], verifier: Closeness()))
        XCTAssertEqual(result.candidates.map { $0.first?.sequence.text }, ["3", "0"])
        XCTAssertEqual(result.candidates[0].map(\.score), [0, -1, -1, -2, -3])
        // Two 1-token prompts prefilled once, then 10 rows each producing its digit and the
        // end-of-sequence token.
        XCTAssertEqual(result.usage, ComputeUsage(tokensGenerated: 20, tokensScored: 2, forwardPasses: 2))
    }
}
