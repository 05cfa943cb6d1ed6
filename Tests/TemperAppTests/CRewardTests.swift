import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The C exact-match reward, called through libffi, agrees with the Swift one.
final class CRewardTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["c-exact-match", "exact-match"])
    }

    func testCAndSwiftExactMatchAgree() throws {
        let completions = ["  Paris\n", "paris ", "Lyon", "New   York", "42.", "4,2", "x", "Ünïcode", ""]
        let answers: [ColumnValue] = [.string("paris"), .string("PARIS"), .string("Paris"), .string("new york"), .number(42),
                                      .string("42"), .null, .string("Ünïcode"), .string("")]
        let batch = RewardBatch(prompts: completions.map { _ in "question" }, completions: completions,
                                completionTokenIDs: completions.map { _ in [1, 2, 3] }, columns: ["answer": answers])
        for options in ["", ":ignore_punctuation=true", ":ignore_case=false,ignore_whitespace=false"] {
            let c = try ComponentRegistry.shared.reward("c-exact-match" + options).reward.score(batch)
            let swift = try ComponentRegistry.shared.reward("exact-match" + options).reward.score(batch)
            XCTAssertEqual(c, swift, options)
        }
        let c = try ComponentRegistry.shared.reward("c-exact-match").reward.score(batch)
        XCTAssertEqual(c, [1, 1, 0, 1, 0, 0, nil, 1, 1])
    }

    func testCRewardParametersAreValidatedLikeSwiftOnes() {
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("c-exact-match:ignore_cas=true")) { error in
            XCTAssertEqual("\(error)", "c-exact-match: unknown parameter 'ignore_cas'. Did you mean 'ignore_case'? " +
                           "(parameters: ignore_case, ignore_whitespace, ignore_punctuation)")
        }
    }

    func testMissingColumnIsAnError() throws {
        let reward = try ComponentRegistry.shared.reward("c-exact-match").reward
        XCTAssertThrowsError(try reward.score(RewardBatch(prompts: ["p"], completions: ["c"]))) { error in
            XCTAssertEqual("\(error)", "c-exact-match: needs the dataset column 'answer'; the data has no extra columns")
        }
    }

    func testSignatureParsing() {
        XCTAssertEqual(CRewardSignature(declaration: "double score(const char *p, const char *c, const char *const *cols)"), .text)
        XCTAssertEqual(CRewardSignature(declaration: "double(const char*,const char*,const int32_t *ids,int64_t n,const char* const* cols,const double *params)"), .full)
        XCTAssertNil(CRewardSignature(declaration: "float f(const char *p)"))
    }
}
