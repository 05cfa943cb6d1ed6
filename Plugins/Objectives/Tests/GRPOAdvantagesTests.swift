import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The host's shared advantage estimators (TemperCore `Advantages`), by hand.
final class GRPOAdvantagesTests: XCTestCase {
    // Group 0 of four, group 1 of three equal rewards, group 2 of one: 8 rows, not a multiple of 4.
    let rewards: [Float] = [1, 0, 0, 1, 2, 2, 2, 5]
    let groups = [0, 0, 0, 0, 1, 1, 1, 2]

    func testGroupScaledAdvantagesByHand() {
        let std0 = (1.0 / 3.0).squareRoot()                          // {1,0,0,1}: Σ(r − ½)² = 1, n − 1 = 3
        let a = 0.5 / (std0 + 1e-4)
        let got = Advantages.groupRelative(rewards, groupIndex: groups, scaling: .group)
        let expected = [a, -a, -a, a, 0, 0, 0, 0]
        for (g, e) in zip(got, expected) { XCTAssertEqual(Double(g), e, accuracy: 1e-5) }
    }

    func testUnscaledAndBatchScaledAdvantages() {
        XCTAssertEqual(Advantages.groupRelative(rewards, groupIndex: groups, scaling: .none), [0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0])
        let mean = 13.0 / 8
        let std = (rewards.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / 7).squareRoot()
        let got = Advantages.groupRelative(rewards, groupIndex: groups, scaling: .batch)
        for (g, c) in zip(got, [0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0]) { XCTAssertEqual(Double(g), c / (std + 1e-4), accuracy: 1e-5) }
    }

    func testRowsNoRewardScoredGetZeroAndStayOutOfTheirGroupsStatistics() {
        // Group {1, NaN, 3}: mean 2 and std √2 over the two scored rows.
        let got = Advantages.groupRelative([1, .nan, 3], groupIndex: [0, 0, 0], scaling: .group)
        let s = Float(2).squareRoot() + 1e-4
        XCTAssertEqual(got, [-1 / s, 0, 1 / s])
        XCTAssertEqual(Advantages.groupRelative([.nan, .nan], groupIndex: [0, 0], scaling: .group), [0, 0])
    }

    func testLeaveOneOutAndWhitening() {
        let loo = Advantages.leaveOneOut(rewards, groupIndex: groups)
        // Row 0: 1 − (0 + 0 + 1)/3; row 1: 0 − 2/3; a lone row has no baseline: 0.
        let third = Float(1) / 3
        for (g, e) in zip(loo, [1 - third, -2 * third, -2 * third, 1 - third, 0, 0, 0, 0]) { XCTAssertEqual(g, e, accuracy: 1e-6) }
        let w = Advantages.whitened([1, 2, 3, .nan])
        XCTAssertEqual(w[0], -1 / (1 + 1e-4), accuracy: 1e-6)
        XCTAssertEqual(w[1], 0, accuracy: 1e-6)
        XCTAssertEqual(w[3], 0)
    }

    func testOneWhiteningWithEachImplementationsScale() {
        // Selected: 1, 2, 3 (mean 2, squared deviations 2: sample variance 1, population 2/3).
        let x: [Float] = [1, 2, 3, 10], w: [Float] = [1, 1, 1, 0]
        let byStd = Advantages.whitened(x, weights: w, scale: .sampleStdPlus(1e-4))
        assertClose(byStd, [-1 / 1.0001, 0, 1 / 1.0001, 0], tol: 1e-6)
        assertClose(Advantages.whitened(x, weights: w, scale: .sampleVariancePlus(1e-8)), [-1, 0, 1, 0], tol: 1e-6)
        let rstd = Float(1 / (2.0 / 3.0).squareRoot())
        assertClose(Advantages.whitened(x, weights: w, scale: .populationVarianceAtLeast(1e-8)), [-rstd, 0, rstd, 0], tol: 1e-6)
        // TRL's masked_whiten(shift_mean=False) adds the mean back; unselected entries stay 0.
        assertClose(Advantages.whitened(x, weights: w, scale: .sampleVariancePlus(1e-8), keepMean: true), [1, 2, 3, 0], tol: 1e-6)
        // One value has no spread: it whitens to 0; nothing selected gives all 0.
        XCTAssertEqual(Advantages.whitened([5, 7], weights: [1, 0], scale: .sampleVariancePlus(1e-8)), [0, 0])
        XCTAssertEqual(Advantages.whitened([5, 7], weights: [0, 0], scale: .populationVarianceAtLeast(1e-8)), [0, 0])
    }

    func testZeroStdShareAndConstantGroups() {
        XCTAssertEqual(Advantages.zeroStdGroupShare(rewards, groupIndex: groups), 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(Advantages.constantGroups(rewards, groupIndex: groups), [1, 2])
    }
}
