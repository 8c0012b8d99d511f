// Undo/redo over whole editor states {photo, ops}: a stroke adds one op, an erase result starts a
// new photo with no ops. States are immutable, so undo is "show that state again".

const MAX_STATES = 300;

export class History {
  constructor(initial) {
    this.states = [initial];
    this.index = 0;
    this.original = initial.photo;   // what "compare" shows, even after old states are dropped
  }

  get current() {
    return this.states[this.index];
  }

  push(state) {
    this.states.splice(this.index + 1);
    this.states.push(state);
    if (this.states.length > MAX_STATES) this.states.shift();
    this.index = this.states.length - 1;
  }

  /** Add one mask op on top of the current state. */
  pushOp(op) {
    const { photo, ops } = this.current;
    this.push({ photo, ops: [...ops, op] });
  }

  canUndo() {
    return this.index > 0;
  }

  canRedo() {
    return this.index < this.states.length - 1;
  }

  undo() {
    if (this.canUndo()) this.index--;
    return this.current;
  }

  redo() {
    if (this.canRedo()) this.index++;
    return this.current;
  }
}
