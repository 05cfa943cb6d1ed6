import Foundation

/// A fraction of two machine integers in lowest terms with a positive denominator.
///
/// Graded answers are almost always small rationals, and comparing them exactly is what keeps
/// `12` apart from `1/2` and `0.333` apart from `1/3`. Every operation reports overflow as nil so
/// the caller can fall back to `Double` instead of trapping.
struct Rational: Equatable {
    let num: Int
    let den: Int

    /// `n / d` reduced; nil for a zero denominator or `Int.min` (whose negation overflows).
    init?(_ n: Int, _ d: Int) {
        guard d != 0, n != .min, d != .min else { return nil }
        let g = Rational.gcd(n.magnitude, d.magnitude)
        let sign = d < 0 ? -1 : 1
        num = sign * n / Int(g)
        den = sign * d / Int(g)
    }

    /// The integer `n`.
    init(integer n: Int) {
        num = n
        den = 1
    }

    static func gcd(_ a: UInt, _ b: UInt) -> UInt {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a == 0 ? 1 : a
    }

    var double: Double { Double(num) / Double(den) }
    var isInteger: Bool { den == 1 }

    /// Whether the decimal expansion ends (the denominator has no prime factors but 2 and 5):
    /// such a value can be written exactly as a decimal, so a decimal answer must match it exactly.
    var terminates: Bool {
        var d = den
        while d % 2 == 0 { d /= 2 }
        while d % 5 == 0 { d /= 5 }
        return d == 1
    }

    func adding(_ o: Rational) -> Rational? {
        let g = Int(Rational.gcd(den.magnitude, o.den.magnitude))
        let (l, o1) = (den / g).multipliedReportingOverflow(by: o.den)
        let (a, o2) = num.multipliedReportingOverflow(by: o.den / g)
        let (b, o3) = o.num.multipliedReportingOverflow(by: den / g)
        let (s, o4) = a.addingReportingOverflow(b)
        guard !(o1 || o2 || o3 || o4) else { return nil }
        return Rational(s, l)
    }

    func multiplying(_ o: Rational) -> Rational? {
        // Cross-reduce first so products of already-reduced fractions rarely overflow.
        let g1 = Int(Rational.gcd(num.magnitude, o.den.magnitude))
        let g2 = Int(Rational.gcd(o.num.magnitude, den.magnitude))
        let (n, o1) = (num / g1).multipliedReportingOverflow(by: o.num / g2)
        let (d, o2) = (den / g2).multipliedReportingOverflow(by: o.den / g1)
        guard !(o1 || o2) else { return nil }
        return Rational(n, d)
    }

    var negated: Rational? { Rational(-num, den) }
    var reciprocal: Rational? { Rational(den, num) }

    /// `self^e` by repeated squaring; nil on overflow or `0^negative`.
    func power(_ e: Int) -> Rational? {
        if e < 0 { return reciprocal?.power(-e) }
        var result = Rational(integer: 1)
        var base = self
        var e = e
        while e > 0 {
            if e & 1 == 1 { guard let r = result.multiplying(base) else { return nil }; result = r }
            e >>= 1
            if e > 0 { guard let b = base.multiplying(base) else { return nil }; base = b }
        }
        return result
    }

    /// The exact `k`-th root when numerator and denominator are perfect `k`-th powers.
    func root(_ k: Int) -> Rational? {
        guard k >= 1 else { return nil }
        if k == 1 { return self }
        if num < 0 && k % 2 == 0 { return nil }
        func intRoot(_ v: Int) -> Int? {
            let m = v.magnitude
            let guess = Int(Foundation.pow(Double(m), 1 / Double(k)).rounded())
            for c in max(0, guess - 1)...(guess + 1) {
                if let p = Rational(integer: c).power(k), p.num == Int(m) { return v < 0 ? -c : c }
            }
            return nil
        }
        guard let n = intRoot(num), let d = intRoot(den) else { return nil }
        return Rational(n, d)
    }
}

/// A number as exact as the arithmetic that produced it allows: a rational while every step
/// stays rational and within `Int`, otherwise a `Double`.
enum Num {
    case exact(Rational)
    case approx(Double)

    static let nan = Num.approx(.nan)

    var double: Double {
        switch self {
        case .exact(let r): return r.double
        case .approx(let d): return d
        }
    }

    var rational: Rational? {
        if case .exact(let r) = self { return r }
        return nil
    }

    static func + (a: Num, b: Num) -> Num {
        if let x = a.rational, let y = b.rational, let s = x.adding(y) { return .exact(s) }
        return .approx(a.double + b.double)
    }

    static prefix func - (a: Num) -> Num {
        if let x = a.rational, let n = x.negated { return .exact(n) }
        return .approx(-a.double)
    }

    static func - (a: Num, b: Num) -> Num { a + (-b) }

    static func * (a: Num, b: Num) -> Num {
        if let x = a.rational, let y = b.rational, let p = x.multiplying(y) { return .exact(p) }
        return .approx(a.double * b.double)
    }

    static func / (a: Num, b: Num) -> Num {
        if let y = b.rational {
            if y.num == 0 { return .nan }
            if let x = a.rational, let r = y.reciprocal, let q = x.multiplying(r) { return .exact(q) }
        }
        return .approx(a.double / b.double)
    }

    /// `a^b`, exact for rational bases with integer exponents and for perfect rational roots.
    func power(_ e: Num) -> Num {
        if let b = rational, let x = e.rational {
            if x.isInteger, x.num.magnitude <= 4096, let p = b.power(x.num) { return .exact(p) }
            if x.den <= 64, let r = b.root(x.den), let p = r.power(x.num) { return .exact(p) }
            if b.num < 0, x.den % 2 == 1 {
                // Real odd roots of negatives, which `pow` leaves undefined.
                let m = Foundation.pow(-b.double, x.double)
                return .approx(x.num % 2 == 0 ? m : -m)
            }
        }
        return .approx(Foundation.pow(double, e.double))
    }

    /// The `k`-th root (`\sqrt[k]{}`), exact when possible.
    func root(_ k: Num) -> Num {
        if let kr = k.rational, kr.isInteger, kr.num >= 1, kr.num <= 64 {
            if let b = rational, let r = b.root(kr.num) { return .exact(r) }
            let d = double
            if d < 0 { return kr.num % 2 == 1 ? .approx(-Foundation.pow(-d, 1 / Double(kr.num))) : .nan }
            return .approx(kr.num == 2 ? d.squareRoot() : Foundation.pow(d, 1 / Double(kr.num)))
        }
        return .approx(Foundation.pow(double, 1 / k.double))
    }
}
