import TemperCore
import TemperTestSupport
import XCTest

/// Loads the built plugin the way `temper` does and scores a small batch.
final class __Name__Tests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["__component__"])
    }

    func testScoresCompletionsAgainstTheAnswerColumn() throws {
        let reward = try ComponentRegistry.shared.reward("__component__").reward
        let batch = RewardBatch(prompts: ["q", "q", "q"], completions: ["The answer is 42", "no idea", "x"],
                                columns: ["answer": [.number(42), .string("7"), .null]])
        XCTAssertEqual(try reward.score(batch), [1, 0, nil])
    }

    func testMissingColumnIsAnError() throws {
        let reward = try ComponentRegistry.shared.reward("__component__:column=solution").reward
        XCTAssertThrowsError(try reward.score(RewardBatch(prompts: ["q"], completions: ["a"])))
    }
}
