import TemperCore
import TemperTestSupport
import XCTest

/// exact-match, loaded from the built libTemperPluginRewards.so through the plugin loader.
final class ExactMatchTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["exact-match"])
    }

    private func score(_ spec: String, _ completions: [String], answers: [ColumnValue], column: String = "answer") throws -> [Float?] {
        let reward = try ComponentRegistry.shared.reward(spec).reward
        return try reward.score(RewardBatch(prompts: completions.map { _ in "q" }, completions: completions,
                                            columns: [column: answers]))
    }

    func testDefaultNormalisationIgnoresCaseAndWhitespace() throws {
        XCTAssertEqual(try score("exact-match", ["  Paris\n", "paris ", "Lyon", "New   York", "42."],
                                 answers: [.string("paris"), .string("PARIS"), .string("Paris"), .string("new york"), .number(42)]),
                       [1, 1, 0, 1, 0])
    }

    func testOptions() throws {
        XCTAssertEqual(try score("exact-match:ignore_case=false", ["Paris", "paris"], answers: [.string("Paris"), .string("Paris")]), [1, 0])
        XCTAssertEqual(try score("exact-match:ignore_punctuation=true", ["42.", "4,2"], answers: [.number(42), .string("42")]), [1, 1])
        XCTAssertEqual(try score("exact-match:ignore_whitespace=false", ["a b", " a"], answers: [.string("a  b"), .string("a")]), [0, 0])
        XCTAssertEqual(try score("exact-match:column=label", ["x"], answers: [.string("X")], column: "label"), [1])
    }

    func testMissingAnswerIsNilAndMissingColumnIsAnError() throws {
        XCTAssertEqual(try score("exact-match", ["a", "b"], answers: [.null, .string("b")]), [nil, 1])
        XCTAssertThrowsError(try score("exact-match", ["a"], answers: [.string("a")], column: "solution")) { error in
            XCTAssertEqual("\(error)", "exact-match: needs the dataset column 'answer'; the data has solution")
        }
    }
}
