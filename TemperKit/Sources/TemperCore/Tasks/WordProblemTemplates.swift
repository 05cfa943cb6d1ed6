/// One word-problem template: draws its numbers and writes the question and the worked steps.
struct WordProblemTemplate {
    /// A filled-in problem.
    struct Filled {
        var question: String
        var steps: [String]
        var result: Int
    }

    let fill: (inout TaskRandom) -> Filled

    /// A GSM8K calculator annotation: `12*3 = <<12*3=36>>36`.
    static func calc(_ a: Int, _ op: String, _ b: Int, _ r: Int) -> String {
        "\(a)\(op)\(b) = <<\(a)\(op)\(b)=\(r)>>\(r)"
    }

    static let names = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Isla", "Jonas",
                        "Keiko", "Liam", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tomas"]

    static let all: [WordProblemTemplate] = [
        // Buying packs: a + b·c.
        WordProblemTemplate { r in
            let name = r.pick(names), item = r.pick(["stickers", "marbles", "pencils", "cards", "beads"])
            let a = r.int(in: 5...60), b = r.int(in: 2...9), c = r.int(in: 4...24)
            let bought = b * c, total = a + bought
            return Filled(question: "\(name) has \(a) \(item). \(name) buys \(b) packs with \(c) \(item) in each pack. How many \(item) does \(name) have now?",
                          steps: ["The packs hold \(calc(b, "*", c, bought)) \(item).",
                                  "\(name) now has \(calc(a, "+", bought, total)) \(item)."],
                          result: total)
        },
        // Wages: rate · hours · days.
        WordProblemTemplate { r in
            let name = r.pick(names)
            let rate = r.int(in: 8...40), hours = r.int(in: 2...10), days = r.int(in: 2...7)
            let daily = rate * hours, total = daily * days
            return Filled(question: "\(name) earns $\(rate) an hour and works \(hours) hours a day. How many dollars does \(name) earn in \(days) days?",
                          steps: ["In one day \(name) earns \(calc(rate, "*", hours, daily)) dollars.",
                                  "In \(days) days that is \(calc(daily, "*", days, total)) dollars."],
                          result: total)
        },
        // Sharing the rest: (a − b) / c, with a chosen so the division is exact.
        WordProblemTemplate { r in
            let goods = r.pick(["muffins", "rolls", "cookies", "bagels"])
            let boxes = r.int(in: 2...8), each = r.int(in: 3...20), sold = r.int(in: 5...40)
            let left = boxes * each, baked = sold + left
            return Filled(question: "A bakery bakes \(baked) \(goods). It sells \(sold) of them in the morning and packs the rest equally into \(boxes) boxes. How many \(goods) go in each box?",
                          steps: ["\(calc(baked, "-", sold, left)) \(goods) are left.",
                                  "Each box gets \(calc(left, "/", boxes, each)) \(goods)."],
                          result: each)
        },
        // Pages left: t − (a + m·a).
        WordProblemTemplate { r in
            let name = r.pick(names)
            let monday = r.int(in: 5...40), times = r.int(in: 2...3), remaining = r.int(in: 10...200)
            let tuesday = monday * times, read = monday + tuesday, total = read + remaining
            return Filled(question: "\(name) is reading a \(total)-page book. \(name) reads \(monday) pages on Monday and \(times == 2 ? "twice" : "three times") as many on Tuesday. How many pages are left to read?",
                          steps: ["On Tuesday \(name) reads \(calc(monday, "*", times, tuesday)) pages.",
                                  "\(name) has read \(calc(monday, "+", tuesday, read)) pages.",
                                  "\(calc(total, "-", read, remaining)) pages are left."],
                          result: remaining)
        },
        // Percent of a group: members a multiple of 20 and percent a multiple of 5, so exact.
        WordProblemTemplate { r in
            let members = 20 * r.int(in: 1...10), percent = 5 * r.int(in: 1...19)
            let scaled = members * percent, coming = scaled / 100
            return Filled(question: "A school club has \(members) members. \(percent)% of them come to the meeting. How many members come?",
                          steps: ["\(percent)% of \(members) is \(calc(members, "*", percent, scaled)), and \(calc(scaled, "/", 100, coming)) members."],
                          result: coming)
        },
        // Change from a bill: the smallest of $20, $50, $100 that covers the cost.
        WordProblemTemplate { r in
            let name = r.pick(names), item = r.pick(["notebooks", "pens", "tickets", "sandwiches"])
            let count = r.int(in: 2...9), price = r.int(in: 2...min(15, 99 / count))
            let cost = count * price, bill = [20, 50, 100].first { $0 > cost }!, change = bill - cost
            return Filled(question: "\(name) buys \(count) \(item) at $\(price) each and pays with a $\(bill) bill. How many dollars of change does \(name) get?",
                          steps: ["The \(item) cost \(calc(count, "*", price, cost)) dollars.",
                                  "The change is \(calc(bill, "-", cost, change)) dollars."],
                          result: change)
        },
    ]
}
