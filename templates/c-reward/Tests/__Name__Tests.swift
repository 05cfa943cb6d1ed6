import TemperCore
import TemperTestSupport
import XCTest

/// Loads the built C library through its manifest (Plugins/__Name__/temper-plugin.json), as
/// `temper` does, and calls it through libffi.
final class __Name__Tests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["__component__"])
    }

    func testScoresByLength() throws {
        let reward = try ComponentRegistry.shared.reward("__component__:target_length=4").reward
        let batch = RewardBatch(prompts: ["q", "q", "q"], completions: ["abcd", "ab", "abcdefghij"])
        XCTAssertEqual(try reward.score(batch), [1, 0.5, 0])
        let withIDs = RewardBatch(prompts: ["q"], completions: ["whatever"], completionTokenIDs: [[1, 2, 3]])
        XCTAssertEqual(try reward.score(withIDs), [0.75])
    }

    func testZeroTargetIsNotApplicable() throws {
        let reward = try ComponentRegistry.shared.reward("__component__:target_length=0").reward
        XCTAssertEqual(try reward.score(RewardBatch(prompts: ["q"], completions: ["a"])), [nil])
    }
}
