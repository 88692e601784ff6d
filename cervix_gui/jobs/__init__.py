"""Running the models from the window: training and inference jobs in worker
threads, one at a time per device, with a jobs dock, a fine-tuning dialog and a
models dock."""
