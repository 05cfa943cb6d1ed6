import TemperModels

/// Tokenization of preference, unpaired and stepwise rows, as TRL 1.x's DPO, KTO and PRM trainers do it.
extension ExampleEncoder {
    /// A preference pair: prompt + chosen and prompt + rejected, each ending in EOS (plain text) or
    /// rendered by the chat template (messages). The completion starts where the tokenized prompt
    /// and the tokenized prompt + completion diverge (TRL: tokens may merge across the boundary),
    /// the same position on both sides, so the two sequences share their prompt tokens.
    func encodePair(prompt: RowContent, chosen: RowContent, rejected: RowContent, margin: Float?) throws -> TokenizedExample {
        let (p, full) = try promptAndFull(prompt, [chosen, rejected])
        let (promptLength, sequences) = try limitedPrompt(p, full)
        var example = TokenizedExample(ids: sequences[0], lossMask: sequences[0].indices.map { $0 >= promptLength })
        example.rejected = TokenizedSequence(ids: sequences[1], lossMask: sequences[1].indices.map { $0 >= promptLength })
        example.promptLength = promptLength
        example.margin = margin
        return example
    }

    /// An unpaired row: prompt + completion (EOS after plain text) with its desirable / undesirable label.
    func encodeUnpaired(prompt: RowContent, completion: RowContent, label: Bool) throws -> TokenizedExample {
        let (p, full) = try promptAndFull(prompt, [completion])
        let (promptLength, sequences) = try limitedPrompt(p, full)
        var example = TokenizedExample(ids: sequences[0], lossMask: sequences[0].indices.map { $0 >= promptLength })
        example.promptLength = promptLength
        example.label = label
        return example
    }

    /// A stepwise row as TRL's PRM trainer tokenizes it: BOS (when the tokenizer has one) + prompt,
    /// then each step tokenized on its own followed by the step separator's tokens; the label of a
    /// step sits on the separator's last token, every other position carries −100. A scorer that
    /// tokenizes a partial solution the same way reads its step scores at the same positions.
    public func encodeSteps(prompt: String, steps: [String], labels: [Bool]) -> TokenizedExample {
        var ids = (tokenizer.bosTokenID.map { [$0] } ?? []) + tokenizer.encode(prompt, parseSpecialTokens: false)
        if let limit = options.maxPromptLength, ids.count > limit { ids = Array(ids.suffix(limit)) }
        let promptLength = ids.count
        var stepLabels = [Int32](repeating: -100, count: ids.count)
        let separator = tokenizer.encode(options.stepSeparator, parseSpecialTokens: false)
        for (step, label) in zip(steps, labels) {
            let tokens = tokenizer.encode(step, parseSpecialTokens: false) + separator
            guard !tokens.isEmpty else { continue }
            ids += tokens
            stepLabels += [Int32](repeating: -100, count: tokens.count - 1) + [label ? 1 : 0]
        }
        var example = TokenizedExample(ids: ids, lossMask: stepLabels.map { $0 != -100 })
        example.promptLength = promptLength
        example.stepLabels = stepLabels
        return example
    }

    /// The tokenized prompt and prompt + completion for each completion.
    private func promptAndFull(_ prompt: RowContent, _ completions: [RowContent]) throws -> ([Int32], [[Int32]]) {
        switch prompt {
        case .text(let p):
            let full = try completions.map { c -> [Int32] in
                guard case .text(let text) = c else { throw RowError(field: "prompt", "is text but a completion is a list of messages") }
                return tokenizer.encode(p + text, parseSpecialTokens: false, addSpecialTokens: true) + eos
            }
            return (tokenizer.encode(p, parseSpecialTokens: false, addSpecialTokens: true), full)
        case .messages(let p):
            let full = try completions.map { c -> [Int32] in
                guard case .messages(let m) = c else { throw RowError(field: "prompt", "is a list of messages but a completion is text") }
                return try tokenizer.encodeChat(p + m, addGenerationPrompt: false)
            }
            return (try tokenizer.encodeChat(p, addGenerationPrompt: true), full)
        }
    }

    /// Where the completions start (the shortest common prefix of the prompt with each sequence),
    /// after cutting the prompt to its last `max_prompt_length` tokens; a prompt that leaves no
    /// room under `max_length` is an error.
    private func limitedPrompt(_ prompt: [Int32], _ full: [[Int32]]) throws -> (Int, [[Int32]]) {
        var promptLength = full.map { zip(prompt, $0).prefix { $0 == $1 }.count }.min() ?? 0
        var sequences = full
        if let limit = options.maxPromptLength, promptLength > limit {
            let drop = promptLength - limit
            sequences = sequences.map { Array($0.dropFirst(drop)) }
            promptLength = limit
        }
        guard promptLength < options.maxLength else {
            throw RowError(field: "prompt", "has \(promptLength) tokens but max_length is \(options.maxLength): no completion token would remain " +
                           "(raise max_length, or set max_prompt_length to cut prompts)")
        }
        for (i, s) in sequences.enumerated() where s.count <= promptLength {
            throw RowError(field: sequences.count == 2 ? ["chosen", "rejected"][i] : "completion", "has no tokens after the prompt")
        }
        return (promptLength, sequences)
    }
}
