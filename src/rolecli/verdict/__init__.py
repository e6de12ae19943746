"""From a posting's scores to its verdict: the label rule (decision), the line evidence it
reads, the reasons and the what-if given with it, and the `Result` every output renders."""
