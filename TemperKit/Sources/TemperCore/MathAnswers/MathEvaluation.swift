import Foundation

/// Numeric value of a scalar `MathNode`, exact where the arithmetic allows.
///
/// Variables take pseudo-random values that depend only on their name and the sample point, so
/// the same variable gets the same value in the reference and in the completion; two expressions
/// that agree at several such points are taken to be the same function (the usual randomized
/// identity test), which is what lets `(x+1)^2` match `x^2+2x+1` without a CAS.
enum MathEvaluation {
    /// Number of sample points used to compare expressions with variables.
    static let samplePoints = 5

    /// The value of `node` at sample `point` (`nil`: variables are not allowed and give NaN);
    /// `percentAsFraction` reads `50\%` as 0.5 instead of 50.
    static func value(_ node: MathNode, point: Int?, percentAsFraction: Bool) -> Num {
        func v(_ n: MathNode) -> Num { value(n, point: point, percentAsFraction: percentAsFraction) }
        switch node {
        case .number(let x): return x
        case .symbol(let name):
            guard let point else { return .nan }
            return .approx(symbolValue(name, point))
        case .text, .tuple, .set, .list, .union, .matrix, .relation, .plusMinus: return .nan
        case .sum(let xs):
            var acc = Num.exact(Rational(integer: 0))
            for x in xs { acc = acc + v(x) }
            return acc
        case .neg(let a): return -v(a)
        case .product(let xs):
            var acc = Num.exact(Rational(integer: 1))
            for x in xs { acc = acc * v(x) }
            return acc
        case .quotient(let a, let b): return v(a) / v(b)
        case .power(let a, let b): return v(a).power(v(b))
        case .root(let a, let k): return v(a).root(v(k))
        case .percent(let a):
            let x = v(a)
            return percentAsFraction ? x / .exact(Rational(integer: 100)) : x
        case .factorial(let a):
            guard let r = v(a).rational, r.isInteger, r.num >= 0, r.num <= 20 else { return .nan }
            var f = 1
            for k in stride(from: 2, through: r.num, by: 1) { f *= k }
            return .exact(Rational(integer: f))
        case .function(let name, let a):
            return function(name, a, v)
        }
    }

    private static func function(_ name: String, _ arg: MathNode, _ v: (MathNode) -> Num) -> Num {
        if name == "binom" {
            guard case .tuple(let xs, _, _) = arg, xs.count == 2,
                  let n = v(xs[0]).rational, let k = v(xs[1]).rational, n.isInteger, k.isInteger,
                  k.num >= 0, n.num >= k.num, n.num <= 66 else { return .nan }
            var c = Rational(integer: 1)
            for j in 0..<k.num {
                guard let m = c.multiplying(Rational(integer: n.num - j)), let d = Rational(m.num, (j + 1) * m.den) else { return .nan }
                c = d
            }
            return .exact(c)
        }
        let x = v(arg)
        switch name {
        case "abs":
            if let r = x.rational, let n = r.num < 0 ? r.negated : r { return .exact(n) }
            return .approx(abs(x.double))
        case "floor", "ceil":
            if let r = x.rational {
                let q = r.num / r.den, rem = r.num % r.den
                let f = rem != 0 && r.num < 0 ? q - 1 : q
                return .exact(Rational(integer: name == "floor" ? f : (rem != 0 ? f + 1 : f)))
            }
            return .approx(name == "floor" ? x.double.rounded(.down) : x.double.rounded(.up))
        default: break
        }
        let d = x.double
        switch name {
        case "sin": return .approx(sin(d))
        case "cos": return .approx(cos(d))
        case "tan": return .approx(tan(d))
        case "sec": return .approx(1 / cos(d))
        case "csc": return .approx(1 / sin(d))
        case "cot": return .approx(cos(d) / sin(d))
        case "arcsin": return .approx(asin(d))
        case "arccos": return .approx(acos(d))
        case "arctan": return .approx(atan(d))
        case "sinh": return .approx(sinh(d))
        case "cosh": return .approx(cosh(d))
        case "tanh": return .approx(tanh(d))
        case "ln", "log": return d > 0 ? .approx(log(d)) : .nan
        case "exp": return .approx(exp(d))
        default: return .nan
        }
    }

    /// A value in [0.35, 2.25) fixed by the variable's name and the sample point: positive (so
    /// roots and logarithms stay defined) and away from integers that could hide differences.
    static func symbolValue(_ name: String, _ point: Int) -> Double {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h ^= UInt64(point + 1) &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        h ^= h >> 31
        return 0.35 + Double(h >> 11) / Double(1 << 53) * 1.9
    }

    /// Whether any variable occurs in `node`.
    static func hasSymbols(_ node: MathNode) -> Bool {
        node.containsLeaf { if case .symbol = $0 { return true } else { return false } }
    }
}
