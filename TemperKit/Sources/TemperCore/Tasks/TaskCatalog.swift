/// The built-in verifiable tasks, by name.
public enum TaskCatalog {
    /// Every built-in task type.
    public static let all: [any VerifiableTask.Type] = [
        AdditionProblems.self, MultiplicationProblems.self, CountdownProblems.self, SortingProblems.self, WordProblems.self,
        ArithmeticChainProblems.self, LongAdditionProblems.self, OneStepWordProblems.self,
    ]

    /// The task type called `name`, or an error listing the tasks and suggesting the closest.
    public static func type(named name: String) throws -> any VerifiableTask.Type {
        guard let t = all.first(where: { $0.name == name }) else {
            let names = all.map { $0.name }
            throw SpecError("unknown task '\(name)'.\(Suggestions.hint(name, names)) Available tasks: " + names.joined(separator: ", "))
        }
        return t
    }

    /// The task `name` with `options` (`digits` → `3`), validated like component parameters.
    public static func make(_ name: String, options: [(key: String, value: RawParameterValue)] = []) throws -> any VerifiableTask {
        let t = try type(named: name)
        return try t.init(config: ComponentConfig(component: name, parameters: t.parameters, raw: options))
    }
}
