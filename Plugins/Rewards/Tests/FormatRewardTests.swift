import TemperCore
import TemperTestSupport
import XCTest

/// format, loaded through the plugin loader.
final class FormatRewardTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["format"])
    }

    private func score(_ spec: String, _ completions: [String]) throws -> [Float?] {
        let reward = try ComponentRegistry.shared.reward(spec).reward
        return try reward.score(RewardBatch(prompts: completions.map { _ in "" }, completions: completions))
    }

    func testStrictR1Format() throws {
        let cases: [(String, Float)] = [
            ("<think>\nreason\n</think>\n<answer>\n42\n</answer>", 1),
            ("<think>\nreason\n</think>\n<answer>\n42\n</answer>\n", 1),          // trailing whitespace allowed
            ("<think>\n\n</think>\n<answer>\n\n</answer>", 1),                    // empty bodies, as `.*?`
            ("<think>\nmulti\nline\n</think>\n<answer>\n4\n2\n</answer>", 1),
            (" <think>\nreason\n</think>\n<answer>\n42\n</answer>", 0),          // leading space
            ("<think>reason</think>\n<answer>\n42\n</answer>", 0),                // newlines missing
            ("<think>\n</think>\n<answer>\n42\n</answer>", 0),                    // one newline cannot serve both tags
            ("<think>\na\n</think>\n<answer>\nb\n</answer>\n<answer>\nc\n</answer>", 0), // a second answer block
            ("<think>\na\n</think>\n<answer>\n42\n</answer> trailing text", 0),
            ("<answer>\n42\n</answer>", 0),
        ]
        XCTAssertEqual(try score("format", cases.map(\.0)), cases.map(\.1))
        XCTAssertEqual(try score("format:mode=strict", cases.map(\.0)), cases.map(\.1))
    }

    func testSoftR1Format() throws {
        let cases: [(String, Float)] = [
            ("<think>r</think> <answer>4</answer>", 1),
            ("Sure. <think>x</think>\n\n<answer>y</answer> done", 1),
            ("<think>\nreason\n</think>\n<answer>\n42\n</answer>", 1),
            ("<answer>4</answer><think>r</think>", 0),
            ("<think>r <answer>4</answer>", 0),
            ("no tags", 0),
        ]
        XCTAssertEqual(try score("format:mode=soft", cases.map(\.0)), cases.map(\.1))
    }

    func testRegexSearchAndFullMatch() throws {
        XCTAssertEqual(try score("format:pattern=\\d+,match=search", ["abc 12", "abc"]), [1, 0])
        XCTAssertEqual(try score("format:pattern=\\d+", ["abc 12", "12"]), [0, 1])
        // Full match as Python's re.fullmatch: a lazy pattern still matches the whole text.
        XCTAssertEqual(try score("format:pattern=a.*?", ["abcd", "bcd"]), [1, 0])
        // dotall (default true) lets `.` cross newlines.
        XCTAssertEqual(try score("format:pattern=^A.*Z$", ["A\nZ"]), [1])
        XCTAssertEqual(try score("format:pattern=A.*Z,dotall=false", ["A\nZ", "AxZ"]), [0, 1])
    }

    func testBadParametersAreClearErrors() throws {
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("format:pattern=(abc")) { error in
            XCTAssertTrue("\(error)".hasPrefix("format: pattern '(abc' is not a valid regular expression (ICU syntax)"), "\(error)")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("format:mode=loose")) { error in
            XCTAssertEqual("\(error)", "format: mode must be one of strict, soft, got 'loose'.")
        }
    }
}
