/// A task whose worked solutions can carry one typical slip of a careless teacher — a mistake that
/// makes the stated answer wrong while the task's checker still knows the right one.
///
/// Supervised fine-tuning imitates its demonstrations, slips included; reinforcement learning
/// graded by the verifier does not, so it can correct what SFT copied (the survey's argument for
/// RL after SFT). `temper quickstart` builds its SFT data this way (`flawed_demonstrations`).
public protocol FlawedDemonstrations: VerifiableTask {
    /// The slip in a few words, for the quickstart's narrative ("the final carry dropped").
    var flaw: String { get }
    /// `example` with the slip in its worked solution (prompt, answer and columns unchanged), or
    /// nil when the problem cannot have it.
    func flawed(_ example: TaskExample) -> TaskExample?
}
