// BullMQ's sandboxed processor for the bench: a no-op job, run in a child process of the worker.
module.exports = async () => {}
