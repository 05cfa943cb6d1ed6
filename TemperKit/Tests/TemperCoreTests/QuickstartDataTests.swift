import Foundation
@testable import TemperCore
import XCTest

/// The quickstart's flawed demonstrations: the share asked for, exactly the task's slip, the
/// problems themselves untouched, and a task without a slip left as it is.
final class QuickstartDataTests: XCTestCase {
    func testTheShareOfFlawableDemonstrationsGetsTheSlipAndNothingElseChanges() throws {
        let task = try TaskCatalog.make("long-addition")
        let train = try TaskDataset.generate(task, count: 200, seed: 1, split: .train)
        let flawable = try XCTUnwrap(task as? any FlawedDemonstrations)
        let candidates = train.indices.filter { flawable.flawed(train[$0]) != nil }
        XCTAssertTrue((80...150).contains(candidates.count), "\(candidates.count) of 200 three-digit sums carry out of the top column")

        let (out, flawed, eligible) = QuickstartData.flaw(train, share: 0.6, task: task)
        XCTAssertEqual(eligible, candidates.count)
        XCTAssertEqual(flawed, Int((0.6 * Double(candidates.count)).rounded()))
        var changed = 0
        for (before, after) in zip(train, out) {
            XCTAssertEqual(after.prompt, before.prompt)
            XCTAssertEqual(after.answer, before.answer)
            if after != before {
                changed += 1
                XCTAssertEqual(after, flawable.flawed(before))
            }
        }
        XCTAssertEqual(changed, flawed)
        XCTAssertEqual(QuickstartData.flaw(train, share: 0.6, task: task).demonstrations, out, "a fixed stream")

        XCTAssertEqual(QuickstartData.flaw(train, share: 0, task: task).demonstrations, train)
        let all = QuickstartData.flaw(train, share: 1, task: task)
        XCTAssertEqual(all.flawed, candidates.count)
        XCTAssertEqual(candidates.map { all.demonstrations[$0] }, candidates.map { flawable.flawed(train[$0]) })
    }

    func testATaskWithoutASlipKeepsItsDemonstrations() throws {
        let task = try TaskCatalog.make("addition")
        XCTAssertNil(task as? any FlawedDemonstrations)
        let train = try TaskDataset.generate(task, count: 5, seed: 1, split: .train)
        let out = QuickstartData.flaw(train, share: 0.6, task: task)
        XCTAssertEqual(out.demonstrations, train)
        XCTAssertEqual(out.flawed, 0)
        XCTAssertEqual(out.flawable, 0)
    }
}
