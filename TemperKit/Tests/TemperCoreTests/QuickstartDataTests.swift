import Foundation
@testable import TemperCore
import XCTest

/// The quickstart's flawed demonstrations: the share asked for, exactly the task's slip, the
/// problems themselves untouched, and a clear error for a task without a slip.
final class QuickstartDataTests: XCTestCase {
    func testTheShareOfFlawableDemonstrationsGetsTheSlipAndNothingElseChanges() throws {
        let task = try TaskCatalog.make("long-addition")
        let train = try TaskDataset.generate(task, count: 200, seed: 1, split: .train)
        let flawable = try XCTUnwrap(task as? any FlawedDemonstrations)
        let candidates = train.indices.filter { flawable.flawed(train[$0]) != nil }
        XCTAssertTrue((80...150).contains(candidates.count), "\(candidates.count) of 200 three-digit sums carry out of the top column")

        let (out, flawed, eligible) = try QuickstartData.flaw(train, share: 0.6, task: task, spec: "long-addition")
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
        XCTAssertEqual(try QuickstartData.flaw(train, share: 0.6, task: task, spec: "long-addition").demonstrations, out, "a fixed stream")

        XCTAssertEqual(try QuickstartData.flaw(train, share: 0, task: task, spec: "long-addition").demonstrations, train)
        let all = try QuickstartData.flaw(train, share: 1, task: task, spec: "long-addition")
        XCTAssertEqual(all.flawed, candidates.count)
        XCTAssertEqual(candidates.map { all.demonstrations[$0] }, candidates.map { flawable.flawed(train[$0]) })
    }

    func testATaskWithoutASlipIsNamed() throws {
        let task = try TaskCatalog.make("addition")
        let train = try TaskDataset.generate(task, count: 5, seed: 1, split: .train)
        XCTAssertThrowsError(try QuickstartData.flaw(train, share: 0.5, task: task, spec: "addition")) { error in
            XCTAssertEqual((error as? SpecError)?.message,
                           "quickstart: flawed_demonstrations: task 'addition' has no flawed demonstrations (long-addition has); set it to 0")
        }
        XCTAssertEqual(try QuickstartData.flaw(train, share: 0, task: task, spec: "addition").demonstrations, train)
    }
}
