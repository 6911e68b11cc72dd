"""Changing live 1688 offers: plan a change (a previewed draft), apply it in a job, check, undo;
every line ends in a true state."""
