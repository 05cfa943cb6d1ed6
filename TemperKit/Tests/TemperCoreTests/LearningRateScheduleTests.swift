import Foundation
import TemperCore
import XCTest

/// Each schedule against Transformers' formulas, step by step.
final class LearningRateScheduleTests: XCTestCase {
    func testWarmupFromRatioRoundsUp() {
        XCTAssertEqual(LearningRateSchedule(kind: .linear, peak: 1, totalSteps: 95, warmupRatio: 0.1).warmupSteps, 10)
        XCTAssertEqual(LearningRateSchedule(kind: .linear, peak: 1, totalSteps: 95, warmupSteps: 3, warmupRatio: 0.1).warmupSteps, 3)
    }

    func testEachScheduleMatchesItsFormula() {
        let peak = 2e-4, t = 20, w = 4
        for s in 0..<t {
            let d = Double(s)
            let warm = d / Double(w)
            let progress = (d - Double(w)) / Double(t - w)
            let expected: [LearningRateSchedule.Kind: Double] = [
                .constant: 1,
                .constantWithWarmup: s < w ? warm : 1,
                .linear: s < w ? warm : Double(t - s) / Double(t - w),
                .cosine: s < w ? warm : 0.5 * (1 + cos(.pi * progress)),
                .cosineWithMinLR: s < w ? warm : 0.1 + 0.9 * 0.5 * (1 + cos(.pi * progress)),
            ]
            for (kind, factor) in expected {
                let sched = LearningRateSchedule(kind: kind, peak: peak, totalSteps: t, warmupSteps: w, minLRRate: 0.1)
                XCTAssertEqual(sched.learningRate(step: s), peak * factor, accuracy: 1e-15, "\(kind) step \(s)")
            }
        }
    }

    func testEndpoints() {
        let linear = LearningRateSchedule(kind: .linear, peak: 1, totalSteps: 10, warmupSteps: 2)
        XCTAssertEqual(linear.multiplier(step: 0), 0)
        XCTAssertEqual(linear.multiplier(step: 2), 1)
        XCTAssertEqual(linear.multiplier(step: 9), 0.125)
        let cosine = LearningRateSchedule(kind: .cosineWithMinLR, peak: 1, totalSteps: 10, minLRRate: 0.2)
        XCTAssertEqual(cosine.multiplier(step: 0), 1)
        XCTAssertEqual(cosine.multiplier(step: 10), 0.2, accuracy: 1e-12)
        XCTAssertEqual(cosine.multiplier(step: 5), 0.6, accuracy: 1e-12)
    }
}
