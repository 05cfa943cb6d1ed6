import TemperCore
import XCTest

/// Loads the built plugin the way `temper` does and scores a small batch.
final class __Name__Tests: XCTestCase {
    override class func setUp() {
        _ = PluginLoader.shared.load(.standard())
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
