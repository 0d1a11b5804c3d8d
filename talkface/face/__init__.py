"""Face geometry: detection, 68-point landmarks, alignment to the mean face, crop and paste-back."""
