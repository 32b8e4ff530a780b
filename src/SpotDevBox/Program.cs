using SpotDevBox;

return await SpotDevBoxApp.RunAsync(args);
