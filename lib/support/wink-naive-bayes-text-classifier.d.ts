// The package ships no types; these cover the part of its API that `model.ts` uses.
declare module 'wink-naive-bayes-text-classifier' {
  interface NaiveBayesTextClassifier {
    definePrepTasks(tasks: Array<(input: string) => string[]>): number;
    defineConfig(config: { considerOnlyPresence?: boolean; smoothingFactor?: number }): boolean;
    learn(input: string, label: string): boolean;
    consolidate(): boolean;
    /** [label, log2 odds of the label against all others], highest first; [['unknown', 0]] when no token is known. */
    computeOdds(input: string): Array<[string, number]>;
  }
  function createClassifier(): NaiveBayesTextClassifier;
  export = createClassifier;
}
