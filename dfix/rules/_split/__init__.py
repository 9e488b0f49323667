"""DF100's parts; the rule itself, with what it looks for and what blocks a
split, is dfix/rules/df100_split_build_runtime.py.

- plan.py: what a split does (Plan) and why it cannot (Blocked);
- commands.py: reading the RUNs' commands;
- runs.py: what the build's RUNs install, and which of them block a split;
- gain.py: whether a split gains anything (no finding when not);
- variables.py: the values of ENV and ARG variables (a WORKDIR's folder);
- setup.py: the setup RUNs the runtime runs again, and the users images have;
- go.py, node.py, python.py, java.py, rust.py: one planner per ecosystem;
- runtime_images.py: naming the image a runtime stage starts from;
- render.py: the text of the build and runtime stages.

Its name starts with ``_``, so rule discovery passes it over.
"""
