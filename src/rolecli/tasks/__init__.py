"""What the library does end to end, one module per task: classify, explain, evaluate,
fit the label thresholds, train (model/ holds its steps) and describe a model. The public
functions of `rolecli` (its `__init__`) are these modules' entry points."""
