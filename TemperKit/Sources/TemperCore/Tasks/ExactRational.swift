/// A fraction of two integers in lowest terms with a positive denominator, so equal values are
/// equal structs. Arithmetic reports overflow as nil instead of trapping: expressions come from
/// model output and may hold any numbers.
public struct ExactRational: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Numerator (carries the sign).
    public let numerator: Int
    /// Denominator, always ≥ 1.
    public let denominator: Int

    /// The integer `n`.
    public init(_ n: Int) {
        numerator = n
        denominator = 1
    }

    /// `n / d` reduced; nil when `d` is 0 or reducing overflows.
    public init?(_ n: Int, _ d: Int) {
        guard d != 0, n != .min, d != .min else { return nil }
        let g = Self.gcd(abs(n), abs(d))
        let sign = d < 0 ? -1 : 1
        numerator = sign * n / g
        denominator = abs(d) / g
    }

    /// Whether the value is a whole number.
    public var isInteger: Bool { denominator == 1 }

    public var description: String { isInteger ? "\(numerator)" : "\(numerator)/\(denominator)" }

    /// `self + other`, nil on overflow.
    public func adding(_ o: ExactRational) -> ExactRational? {
        guard let a = Self.mul(numerator, o.denominator), let b = Self.mul(o.numerator, denominator),
              let n = Self.add(a, b), let d = Self.mul(denominator, o.denominator) else { return nil }
        return ExactRational(n, d)
    }

    /// `self - other`, nil on overflow.
    public func subtracting(_ o: ExactRational) -> ExactRational? {
        guard o.numerator != .min else { return nil }
        return adding(ExactRational(-o.numerator, o.denominator)!)
    }

    /// `self × other`, nil on overflow.
    public func multiplying(_ o: ExactRational) -> ExactRational? {
        guard let n = Self.mul(numerator, o.numerator), let d = Self.mul(denominator, o.denominator) else { return nil }
        return ExactRational(n, d)
    }

    /// `self ÷ other`, nil when `other` is 0 or on overflow.
    public func dividing(by o: ExactRational) -> ExactRational? {
        guard o.numerator != 0, let n = Self.mul(numerator, o.denominator), let d = Self.mul(denominator, o.numerator) else { return nil }
        return ExactRational(n, d)
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return max(a, 1)
    }

    private static func mul(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }

    private static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }
}
