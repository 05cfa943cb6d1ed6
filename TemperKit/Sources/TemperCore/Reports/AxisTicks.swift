import Foundation

/// Tick positions and labels for a chart axis: "nice" steps of 1, 2 or 5 × 10ᵏ on a linear axis
/// (so labels read 0, 0.2, 0.4 … rather than 0.1837 …), powers of two on a log₂ axis.
public enum AxisTicks {
    /// The step of 1, 2 or 5 × 10ᵏ that cuts `span` into about `target` intervals.
    public static func niceStep(span: Double, target: Int = 5) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(target, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * magnitude
    }

    /// The axis range widened outward to whole steps, and the ticks in it (both ends included);
    /// `minStep` 1 keeps an axis of whole numbers (steps) free of 1.5.
    public static func linear(lo: Double, hi: Double, target: Int = 5, minStep: Double = 0) -> (lo: Double, hi: Double, ticks: [Double]) {
        let step = max(niceStep(span: hi - lo, target: target), minStep)
        let first = floor(lo / step + 1e-9) * step, last = ceil(hi / step - 1e-9) * step
        let count = Int(((last - first) / step).rounded())
        // Multiplying (not accumulating) keeps 0.1 + 0.2 drift out of the labels.
        let ticks = (0...max(count, 0)).map { first + Double($0) * step }
        return (first, max(last, first + step), count == 0 ? [first, first + step] : ticks)
    }

    /// A tick label: as many decimals as the step needs (so close ticks never read alike); `%g`'s
    /// scientific notation, compacted to `2e-4`, for values under 0.001 or of a million and more.
    public static func label(_ value: Double, step: Double) -> String {
        let magnitude = abs(step)
        guard magnitude > 0, value.isFinite else { return String(format: "%g", value) }
        let snapped = (value / magnitude).rounded() * magnitude
        if abs(snapped) < magnitude * 1e-6 { return "0" }
        if abs(snapped) < 1e-3 || abs(snapped) >= 1e6 { return compactExponent(String(format: "%g", snapped)) }
        let decimals = magnitude >= 1 ? 0 : Int(ceil(-log10(magnitude) - 1e-9))
        return String(format: "%.\(decimals)f", snapped)
    }

    /// `2.0e-04` → `2e-4`: the exponent without padding or a plus sign, the mantissa without zeros.
    static func compactExponent(_ text: String) -> String {
        guard let e = text.firstIndex(of: "e") else { return text }
        var mantissa = String(text[..<e])
        if mantissa.contains(".") {
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
        }
        let exponent = Int(text[text.index(after: e)...]) ?? 0
        return "\(mantissa)e\(exponent)"
    }
}
